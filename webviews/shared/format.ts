/**
 * Number formatting shared by every panel: short, fixed significance, explicit about missing values.
 * VS Code sends webview messages as JSON, so a NaN from the host arrives as null: both mean "missing".
 */
export function fmt(v: number | null | undefined, digits = 3): string {
  if (v === undefined || v === null || Number.isNaN(v)) return '—';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(digits - 1).replace('e+', 'e');
  return Number(v.toPrecision(digits)).toString();
}

/** Percentages; small non-zero shares keep two significant digits (1 of 3,000 is 0.033%, not 0.0%). */
export function pct(v: number | null | undefined, digits = 1): string {
  if (v === undefined || v === null || !Number.isFinite(v)) return '—';
  const p = v * 100;
  if (p !== 0 && Math.abs(p) < 1) return `${Number(p.toPrecision(2))}%`;
  return `${p.toFixed(digits)}%`;
}

export function int(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '—';
  return Math.round(v).toLocaleString('en-US');
}

export function duration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  const hh = Math.floor(s / 3600), mm = Math.floor((s % 3600) / 60), ss = s % 60;
  return hh ? `${hh}h ${mm}m` : mm ? `${mm}m ${ss}s` : `${ss}s`;
}
