/**
 * Quickselect over a float64 scratch array: rearranges a[lo..hi] so that a[k] holds the value that
 * sorting would put there, with nothing larger before it and nothing smaller after it. Expected
 * O(n); robust aggregators call it once or twice per coordinate on n ≈ 50 values. Values must not
 * be NaN (the aggregators reject non-finite updates on arrival).
 */
export function select(a: Float64Array, k: number, lo: number, hi: number): number {
  while (hi - lo >= 16) {
    // Median of three as pivot: sorted or reversed input (common when clients agree) stays O(n).
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < a[lo]!) swap(a, mid, lo);
    if (a[hi]! < a[lo]!) swap(a, hi, lo);
    if (a[hi]! < a[mid]!) swap(a, hi, mid);
    const pivot = a[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        swap(a, i, j);
        i++;
        j--;
      }
    }
    // Now a[lo..j] ≤ pivot ≤ a[i..hi], and anything strictly between j and i equals the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k]!;
  }
  // Short ranges: insertion sort beats further partitioning.
  for (let i = lo + 1; i <= hi; i++) {
    const v = a[i]!;
    let j = i - 1;
    while (j >= lo && a[j]! > v) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = v;
  }
  return a[k]!;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i]!;
  a[i] = a[j]!;
  a[j] = t;
}
