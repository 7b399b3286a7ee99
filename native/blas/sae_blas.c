/*
 * Node-API binding of OpenBLAS's cblas_sgemm over Float32Arrays (plain, SharedArrayBuffer or shared
 * WebAssembly.Memory backed), for the training step's GEMM provider and the diagnostics' dense products
 * (src/compute/blasGemm.ts). Operands are element offsets into the arrays, as the GemmProvider interface
 * names them; every extent is checked against the array's length, so a wrong call throws instead of
 * reading or writing outside the buffer.
 *
 * No BLAS header or library is needed to build it: the one CBLAS function it calls is declared below (its
 * enums are fixed by the CBLAS standard), and the OpenBLAS runtime library (Debian's libopenblas0, the
 * library without its headers) is opened when the addon loads. So the addon builds with only a C compiler
 * and Node's headers, one binary serves every machine of its platform, and a machine without OpenBLAS gets
 * a load error that names the package instead of a linker error.
 *
 * Each kernel worker calls sgemm on its own latent range, so OpenBLAS is set to one thread per call when
 * the library is first opened (setThreads changes it, process-wide, for measurements).
 */
#define NAPI_VERSION 8
#define _POSIX_C_SOURCE 200809L /* setenv, dlopen */
#include <node_api.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* CBLAS (netlib's cblas.h): enum CBLAS_ORDER / CBLAS_TRANSPOSE values and cblas_sgemm's signature */
enum { CBLAS_ROW_MAJOR = 101, CBLAS_NO_TRANS = 111, CBLAS_TRANS = 112 };
typedef void (*cblas_sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                               const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);
/* OpenBLAS's own extensions */
typedef void (*set_threads_fn)(int);
typedef int (*get_threads_fn)(void);
typedef char *(*get_config_fn)(void);

static struct {
  const char *path;   /* the library opened, or NULL */
  char error[512];    /* why none opened */
  cblas_sgemm_fn sgemm;
  set_threads_fn set_threads;
  get_threads_fn get_threads;
  get_config_fn get_config;
} blas;

/* OpenBLAS picks its kernels from the CPU's model number, and a release older than the CPU does not know
 * it: OpenBLAS 0.3.21 (Debian 12) runs its Prescott (SSE3) kernels on a Sapphire Rapids Xeon, at 9 GFLOP/s
 * against 45 for its AVX-512 ones. So when the user has not chosen (OPENBLAS_CORETYPE unset), name the
 * kernel family from the CPU's features before the library reads that variable on opening. SkylakeX and
 * Haswell are the sgemm kernels every later x86 core of each family uses too, so naming them never picks a
 * slower sgemm than OpenBLAS would on a CPU it knows. */
static void choose_coretype(void) {
#if defined(__x86_64__) && defined(__GNUC__)
  const char *set = getenv("OPENBLAS_CORETYPE");
  if (set && *set) return;
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq")) setenv("OPENBLAS_CORETYPE", "SkylakeX", 0);
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) setenv("OPENBLAS_CORETYPE", "Haswell", 0);
#endif
}

/* SAE_WORKBENCH_BLAS_LIB names another library exporting cblas_sgemm; otherwise OpenBLAS's runtime names */
static void open_blas(void) {
  static const char *names[] = {"libopenblas.so.0", "libopenblas.so", "libopenblas.dylib", "/opt/homebrew/opt/openblas/lib/libopenblas.dylib", "/usr/local/opt/openblas/lib/libopenblas.dylib", NULL};
  const char *own = getenv("SAE_WORKBENCH_BLAS_LIB");
  const char *one[] = {own, NULL};
  const char **tries = own && *own ? one : names;
  size_t used = 0;
  blas.error[0] = 0;
  choose_coretype();
  for (int i = 0; tries[i]; i++) {
    void *h = dlopen(tries[i], RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char *e = dlerror();
      if (i == 0) used += snprintf(blas.error + used, sizeof blas.error - used, "%s", e ? e : tries[i]);
      continue;
    }
    cblas_sgemm_fn f = (cblas_sgemm_fn)dlsym(h, "cblas_sgemm");
    if (!f) {
      if (used < sizeof blas.error) used += snprintf(blas.error + used, sizeof blas.error - used, "%s%s has no cblas_sgemm", used ? "; " : "", tries[i]);
      dlclose(h);
      continue;
    }
    blas.sgemm = f;
    blas.path = tries[i];
    blas.set_threads = (set_threads_fn)dlsym(h, "openblas_set_num_threads");
    blas.get_threads = (get_threads_fn)dlsym(h, "openblas_get_num_threads");
    blas.get_config = (get_config_fn)dlsym(h, "openblas_get_config");
    if (blas.set_threads) blas.set_threads(1);
    return;
  }
}

#define CHECK(call) do { if ((call) != napi_ok) { napi_throw_error(env, NULL, "sae_blas: Node-API call failed: " #call); return NULL; } } while (0)

static int get_int(napi_env env, napi_value v, const char *what, int64_t *out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || d != d || d < 0 || d > 2147483647.0 || d != (double)(int64_t)d) {
    char msg[96];
    snprintf(msg, sizeof msg, "sae_blas: %s must be a non-negative integer below 2^31", what);
    napi_throw_range_error(env, NULL, msg);
    return 0;
  }
  *out = (int64_t)d;
  return 1;
}

/* The float pointer at element `off` of a Float32Array holding a rows×cols row-major block with leading
 * dimension ld (≥ max(1, cols)); NULL after throwing when the block does not fit. */
static float *block(napi_env env, napi_value arr, int64_t off, int64_t rows, int64_t cols, int64_t ld, const char *name) {
  bool is_ta = false;
  napi_typedarray_type type;
  size_t length;
  void *data;
  char msg[160];
  if (napi_is_typedarray(env, arr, &is_ta) != napi_ok || !is_ta ||
      napi_get_typedarray_info(env, arr, &type, &length, &data, NULL, NULL) != napi_ok || type != napi_float32_array) {
    snprintf(msg, sizeof msg, "sae_blas: %s must be a Float32Array", name);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  if (ld < (cols > 1 ? cols : 1)) {
    snprintf(msg, sizeof msg, "sae_blas: %s's leading dimension %lld is below its %lld columns", name, (long long)ld, (long long)cols);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  int64_t end = rows == 0 || cols == 0 ? off : off + (rows - 1) * ld + cols;
  if (end > (int64_t)length || (data == NULL && length > 0)) {
    snprintf(msg, sizeof msg, "sae_blas: %s (%lld×%lld at offset %lld, ld %lld) ends past its %zu elements", name, (long long)rows, (long long)cols, (long long)off, (long long)ld, length);
    napi_throw_range_error(env, NULL, msg);
    return NULL;
  }
  return (float *)data + off;
}

/* sgemm(transA, transB, m, n, k, A, aOff, lda, B, bOff, ldb, C, cOff, ldc, beta):
 * C = op(A)·op(B) + beta·C, row-major; op(A) is m×k, op(B) k×n, C m×n. */
static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value argv[15];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 15) { napi_throw_type_error(env, NULL, "sae_blas: sgemm takes 15 arguments"); return NULL; }
  static const char *names[] = {"transA", "transB", "m", "n", "k", NULL, "aOff", "lda", NULL, "bOff", "ldb", NULL, "cOff", "ldc"};
  int64_t v[14];
  for (int i = 0; i < 14; i++) if (names[i] && !get_int(env, argv[i], names[i], &v[i])) return NULL;
  double beta;
  if (napi_get_value_double(env, argv[14], &beta) != napi_ok) { napi_throw_type_error(env, NULL, "sae_blas: beta must be a number"); return NULL; }
  int ta = v[0] != 0, tb = v[1] != 0;
  int64_t m = v[2], n = v[3], k = v[4];
  float *a = block(env, argv[5], v[6], ta ? k : m, ta ? m : k, v[7], "A");
  if (!a) return NULL;
  float *b = block(env, argv[8], v[9], tb ? n : k, tb ? k : n, v[10], "B");
  if (!b) return NULL;
  float *c = block(env, argv[11], v[12], m, n, v[13], "C");
  if (!c) return NULL;
  if (m > 0 && n > 0) {
    blas.sgemm(CBLAS_ROW_MAJOR, ta ? CBLAS_TRANS : CBLAS_NO_TRANS, tb ? CBLAS_TRANS : CBLAS_NO_TRANS, (int)m, (int)n, (int)k,
                1.0f, a, (int)v[7], b, (int)v[10], (float)beta, c, (int)v[13]);
  }
  return NULL;
}

static napi_value set_threads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int64_t t;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 1 || !get_int(env, argv[0], "threads", &t)) return NULL;
  if (t < 1) t = 1;
  if (blas.set_threads) blas.set_threads((int)t);
  return NULL;
}

static napi_value get_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  CHECK(napi_create_int32(env, blas.get_threads ? blas.get_threads() : 1, &r));
  return r;
}

static napi_value get_config(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  CHECK(napi_create_string_utf8(env, blas.get_config ? blas.get_config() : blas.path, NAPI_AUTO_LENGTH, &r));
  return r;
}

static napi_value get_library(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value r;
  CHECK(napi_create_string_utf8(env, blas.path, NAPI_AUTO_LENGTH, &r));
  return r;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Loading fails, with the reason and the package to install, when no BLAS library opens: the caller
 * (loadBlas) then falls back to the WebAssembly kernel and reports why. */
static napi_value init(napi_env env, napi_value exports) {
  pthread_once(&once, open_blas);
  if (!blas.sgemm) {
    char msg[700];
    snprintf(msg, sizeof msg, "sae_blas: the OpenBLAS runtime library did not open (%s); install it: apt-get install libopenblas0 (Debian/Ubuntu), dnf install openblas (Fedora), brew install openblas (macOS)", blas.error);
    napi_throw_error(env, NULL, msg);
    return NULL;
  }
  napi_property_descriptor props[] = {
    {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
    {"setThreads", NULL, set_threads, NULL, NULL, NULL, napi_enumerable, NULL},
    {"threads", NULL, get_threads, NULL, NULL, NULL, napi_enumerable, NULL},
    {"config", NULL, get_config, NULL, NULL, NULL, napi_enumerable, NULL},
    {"library", NULL, get_library, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
