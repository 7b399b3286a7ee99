{
  "targets": [
    {
      "target_name": "sae_blas",
      "sources": ["sae_blas.c"],
      "cflags": ["-O2", "-std=c11", "-Wall", "-Wextra", "-Werror=implicit-function-declaration"],
      "libraries": ["-ldl"]
    }
  ]
}
