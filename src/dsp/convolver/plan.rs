//! Partition plans: how an IR is cut into a direct-form head and FFT stages, and the cost model
//! that chooses the cut.

/// Relative costs used to choose a partition plan, in nanoseconds on the reference machine
/// (2-core x86-64 with AVX2/FMA; measured with `cargo bench --bench convolution -- calibrate`).
#[derive(Clone, Copy, Debug)]
pub struct CostModel {
    /// Per `n log2 n` of one real FFT (forward or inverse) of size `n`.
    pub fft_ns: f64,
    /// Per complex multiply-accumulate in the FDL product.
    pub cmac_ns: f64,
    /// Per real multiply-add of the direct-form head.
    pub fir_ns: f64,
    /// Fixed cost per segment (call-splitting, ring reads, head set-up).
    pub segment_ns: f64,
}

impl Default for CostModel {
    fn default() -> Self {
        Self {
            fft_ns: 0.09,
            cmac_ns: 0.18,
            fir_ns: 0.04,
            segment_ns: 250.0,
        }
    }
}

/// One uniformly partitioned stage of a plan.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stage {
    /// Block (and partition) size `N`, in samples; a power of two.
    pub block: usize,
    /// Offset `O` of the stage's first partition in the IR, in samples.
    pub offset: usize,
    /// Number of partitions `P`.
    pub count: usize,
}

impl Stage {
    /// Whether this stage must be computed in full at its block boundary (`O < 2N`) rather
    /// than spread over the following period.
    pub fn immediate(&self) -> bool {
        self.offset < 2 * self.block
    }
}

/// How an IR is cut into a direct-form head and FFT stages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionPlan {
    /// Length `D` of the direct-form head, in samples. Also the segment length: calls are cut
    /// at multiples of `D`.
    pub head_len: usize,
    /// Stages in increasing offset; contiguous (`O_{k+1} = O_k + P_k N_k`), `O_0 = D`.
    pub stages: Vec<Stage>,
    /// IR length covered by the plan, in samples.
    pub capacity: usize,
    /// Whether a whole, aligned segment computes the head by FFT (sharing the first stage's
    /// forward transform and, fused with the first stage's products, its inverse: one more
    /// product per path) instead of the direct FIR. Shorter or unaligned segments always use the FIR, so any call size stays exact
    /// and zero-latency. Worth it when the host's calls are at least `head_len` long.
    pub fft_head: bool,
}

/// Largest partition size considered by [`PartitionPlan::for_ir`].
pub const MAX_PARTITION: usize = 8192;

/// Largest head considered for an FFT head ([`PartitionPlan::for_ir_and_call`]).
pub const MAX_FFT_HEAD: usize = 1024;

/// Largest single FFT the convolver runs in one step at small heads: bigger transforms are
/// split ([`SplitRealFft`]) so that no step costs more than a few microseconds. A plan with a
/// longer head (the host calls with long blocks, so each call has more time) runs leaves up to
/// eight times its head ([`PartitionPlan::max_leaf`]): splitting costs passes over the data.
pub const MAX_LEAF_FFT: usize = 2048;

impl PartitionPlan {
    /// An explicit plan: a head of `head_len` taps followed by stages of the given block sizes,
    /// each with the minimum partition count that gives the next one its slack, the last one
    /// covering the rest of `capacity`.
    ///
    /// # Panics
    /// If `head_len` is not a power of two or the sizes are not increasing powers of two
    /// starting at `head_len`.
    pub fn with_sizes(head_len: usize, sizes: &[usize], capacity: usize) -> Self {
        assert!(head_len.is_power_of_two());
        let mut stages: Vec<Stage> = Vec::new();
        let mut offset = head_len;
        for (i, &n) in sizes.iter().enumerate() {
            assert!(n.is_power_of_two() && n >= head_len);
            if i == 0 {
                assert_eq!(n, head_len, "the first stage has the head's size");
            } else {
                assert!(n > sizes[i - 1]);
            }
            if offset >= capacity {
                break;
            }
            if let Some(next) = sizes.get(i + 1) {
                // Minimum count so that the next stage starts at >= 2 * next.
                let need = (2 * next).saturating_sub(offset).div_ceil(n).max(1);
                let to_end = (capacity - offset).div_ceil(n);
                let count = need.min(to_end);
                stages.push(Stage {
                    block: n,
                    offset,
                    count,
                });
                offset += count * n;
            } else {
                let count = (capacity - offset).div_ceil(n);
                stages.push(Stage {
                    block: n,
                    offset,
                    count,
                });
                offset += count * n;
            }
        }
        Self {
            head_len,
            stages,
            capacity,
            fft_head: false,
        }
    }

    /// A uniformly partitioned plan (partition = `block`), with a direct head of `block` taps
    /// for zero latency: the baseline the benchmark compares against.
    pub fn uniform(block: usize, capacity: usize) -> Self {
        let block = block.next_power_of_two();
        Self::with_sizes(block, &[block], capacity)
    }

    /// Chooses the cheapest plan for an IR of `capacity` samples under `model`, for
    /// `paths` convolution paths fed by `n_in` inputs into `n_out` outputs.
    ///
    /// Candidates: head (= first stage) sizes 32..=256, and every increasing subset of the
    /// larger power-of-two block sizes up to [`MAX_PARTITION`]. Allocates.
    pub fn for_ir(
        capacity: usize,
        paths: usize,
        n_in: usize,
        n_out: usize,
        model: &CostModel,
    ) -> Self {
        Self::for_ir_capped(capacity, paths, n_in, n_out, model, MAX_PARTITION)
    }

    /// The cheapest plan for an IR of `capacity` samples when the host calls with blocks of
    /// `call` samples: besides the direct-form heads of [`for_ir`](Self::for_ir), heads of up
    /// to `call` (at most [`MAX_FFT_HEAD`]) computed by FFT, so the cost per second falls as the
    /// host's block grows. Calls of other sizes stay exact. Allocates.
    pub fn for_ir_and_call(
        capacity: usize,
        paths: usize,
        n_in: usize,
        n_out: usize,
        model: &CostModel,
        call: usize,
    ) -> Self {
        let fir = [32usize, 64, 128, 256].map(|h| (h, false));
        let fft = (5..=MAX_FFT_HEAD.trailing_zeros())
            .map(|b| (1usize << b, true))
            .filter(|&(h, _)| h <= call);
        Self::cheapest(
            fir.into_iter().chain(fft),
            capacity,
            (paths, n_in, n_out),
            model,
            MAX_PARTITION,
        )
    }

    /// The cheapest plan over the given `(head, fft_head)` candidates (see
    /// [`cheapest_with_head`](Self::cheapest_with_head)).
    fn cheapest(
        heads: impl Iterator<Item = (usize, bool)>,
        capacity: usize,
        (paths, n_in, n_out): (usize, usize, usize),
        model: &CostModel,
        max_partition: usize,
    ) -> Self {
        let mut best: Option<(f64, PartitionPlan)> = None;
        for (head, fft_head) in heads {
            let plan = Self::cheapest_with_head(
                capacity,
                (paths, n_in, n_out),
                model,
                head,
                fft_head,
                max_partition,
            );
            let cost = plan.cost_ns_per_sample(paths, n_in, n_out, model);
            if best.as_ref().is_none_or(|(c, _)| cost < *c) {
                best = Some((cost, plan));
            }
        }
        best.expect("at least one candidate").1
    }

    /// The cheapest plan whose head (and first stage) is `head` samples, over every increasing
    /// subset of the larger block sizes up to `max_partition`.
    fn cheapest_with_head(
        capacity: usize,
        (paths, n_in, n_out): (usize, usize, usize),
        model: &CostModel,
        head: usize,
        fft_head: bool,
        max_partition: usize,
    ) -> Self {
        let larger: Vec<usize> = (1..)
            .map(|s| head << s)
            .take_while(|&n| n <= max_partition)
            .collect();
        let mut best: Option<(f64, PartitionPlan)> = None;
        for mask in 0u32..(1 << larger.len()) {
            let mut sizes = vec![head];
            sizes.extend(
                larger
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0)
                    .map(|(_, &n)| n),
            );
            let mut plan = Self::with_sizes(head, &sizes, capacity.max(1));
            plan.fft_head = fft_head;
            let cost = plan.cost_ns_per_sample(paths, n_in, n_out, model);
            if best.as_ref().is_none_or(|(c, _)| cost < *c) {
                best = Some((cost, plan));
            }
        }
        best.expect("at least one candidate").1
    }

    /// [`for_ir`](Self::for_ir) with partitions of at most `max_partition` samples.
    pub fn for_ir_capped(
        capacity: usize,
        paths: usize,
        n_in: usize,
        n_out: usize,
        model: &CostModel,
        max_partition: usize,
    ) -> Self {
        let fir = [32usize, 64, 128, 256].map(|h| (h, false));
        Self::cheapest(
            fir.into_iter(),
            capacity,
            (paths, n_in, n_out),
            model,
            max_partition,
        )
    }

    /// Modelled cost in nanoseconds per sample.
    pub fn cost_ns_per_sample(
        &self,
        paths: usize,
        n_in: usize,
        n_out: usize,
        m: &CostModel,
    ) -> f64 {
        let d = self.head_len as f64;
        let head = if self.fft_head && !self.stages.is_empty() {
            // One product per path per D samples: the forward transform is the first stage's,
            // and the inverse is shared with the first stage's products (fused).
            (paths as f64) * (d + 1.0) * m.cmac_ns / d
        } else {
            paths as f64 * d * m.fir_ns
        };
        let mut c = m.segment_ns / d + head;
        for s in &self.stages {
            let n2 = 2.0 * s.block as f64;
            let fft = m.fft_ns * n2 * n2.log2();
            c += (n_in + n_out) as f64 * fft / s.block as f64;
            c += (paths * s.count * (s.block + 1)) as f64 * m.cmac_ns / s.block as f64;
        }
        c
    }

    /// Largest FFT the plan's jobs run in one step (see [`MAX_LEAF_FFT`]).
    pub fn max_leaf(&self) -> usize {
        MAX_LEAF_FFT.max(8 * self.head_len)
    }

    /// Largest block size in the plan (the head length if there are no stages).
    pub fn max_block(&self) -> usize {
        self.stages
            .iter()
            .map(|s| s.block)
            .max()
            .unwrap_or(self.head_len)
    }
}
