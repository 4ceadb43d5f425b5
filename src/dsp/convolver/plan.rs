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
}

/// Largest partition size considered by [`PartitionPlan::for_ir`].
pub const MAX_PARTITION: usize = 8192;

/// Largest single FFT the convolver runs in one step: bigger transforms are split
/// ([`SplitRealFft`]) so that no step costs more than a few microseconds.
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

    /// [`for_ir`](Self::for_ir) with partitions of at most `max_partition` samples.
    pub fn for_ir_capped(
        capacity: usize,
        paths: usize,
        n_in: usize,
        n_out: usize,
        model: &CostModel,
        max_partition: usize,
    ) -> Self {
        let mut best: Option<(f64, PartitionPlan)> = None;
        for head in [32usize, 64, 128, 256] {
            let larger: Vec<usize> = (1..)
                .map(|s| head << s)
                .take_while(|&n| n <= max_partition)
                .collect();
            for mask in 0u32..(1 << larger.len()) {
                let mut sizes = vec![head];
                sizes.extend(
                    larger
                        .iter()
                        .enumerate()
                        .filter(|(i, _)| mask & (1 << i) != 0)
                        .map(|(_, &n)| n),
                );
                let plan = Self::with_sizes(head, &sizes, capacity.max(1));
                let cost = plan.cost_ns_per_sample(paths, n_in, n_out, model);
                if best.as_ref().is_none_or(|(c, _)| cost < *c) {
                    best = Some((cost, plan));
                }
            }
        }
        best.expect("at least one candidate").1
    }

    /// Modelled cost in nanoseconds per sample.
    pub fn cost_ns_per_sample(
        &self,
        paths: usize,
        n_in: usize,
        n_out: usize,
        m: &CostModel,
    ) -> f64 {
        let mut c = m.segment_ns / self.head_len as f64 + (paths * self.head_len) as f64 * m.fir_ns;
        for s in &self.stages {
            let n2 = 2.0 * s.block as f64;
            let fft = m.fft_ns * n2 * n2.log2();
            c += (n_in + n_out) as f64 * fft / s.block as f64;
            c += (paths * s.count * (s.block + 1)) as f64 * m.cmac_ns / s.block as f64;
        }
        c
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
