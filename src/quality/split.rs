//! Per-frame work split by rows of blocks across the machine's cores. Each share is a
//! contiguous range of rows and the results come back in row order, so vectors and
//! integer sums are exactly what one thread would compute.

use std::ops::Range;

/// At most this many threads for one frame (the work is memory-bound beyond that).
const MAX_THREADS: usize = 4;

/// Rows each share must hold for a thread to be worth its start (a few µs).
const MIN_ROWS_PER_SHARE: usize = 4;

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()).min(MAX_THREADS)
}

/// `work` over `0..rows` in contiguous shares, one thread each; the shares' results in
/// row order.
pub fn by_rows<T: Send>(rows: usize, work: impl Fn(Range<usize>) -> T + Sync) -> Vec<T> {
    shares(rows, threads(), &work)
}

fn shares<T: Send>(rows: usize, threads: usize, work: &(impl Fn(Range<usize>) -> T + Sync)) -> Vec<T> {
    let n = threads.min(rows / MIN_ROWS_PER_SHARE).max(1);
    if n == 1 {
        return vec![work(0..rows)];
    }
    let cut = |i: usize| rows * i / n;
    std::thread::scope(|s| {
        let rest: Vec<_> = (1..n).map(|i| s.spawn(move || work(cut(i)..cut(i + 1)))).collect();
        let mut out = vec![work(0..cut(1))];
        out.extend(rest.into_iter().map(|h| h.join().expect("a share of a frame's rows panicked")));
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_cover_every_row_once_in_order() {
        for (rows, threads) in [(0, 4), (3, 4), (17, 2), (17, 3), (68, 4), (100, 1)] {
            let got: Vec<usize> = shares(rows, threads, &|r: Range<usize>| r.collect::<Vec<_>>()).concat();
            assert_eq!(got, (0..rows).collect::<Vec<_>>(), "{rows} rows on {threads} threads");
        }
        // Small frames stay on one thread.
        assert_eq!(shares(7, 4, &|r: Range<usize>| r.len()).len(), 1);
        assert_eq!(shares(68, 4, &|r: Range<usize>| r.len()).len(), 4);
    }
}
