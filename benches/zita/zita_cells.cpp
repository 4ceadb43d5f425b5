// zita-convolver timing harness for `cargo bench --bench convolution -- zita`.
//
// Usage: zita_cells <ir.f32> <block> <seconds> <reps>
//
// <ir.f32> holds the stereo IR as two planar runs of little-endian 32-bit floats (left, then
// right, equal lengths). The harness configures one Convproc the way a JACK client at period
// <block> runs it with zero added latency (quantum = smallest partition = block, largest
// partition 8192, vector mode, FFTW measured plans), left IR on the left channel and right on
// the right, then:
//   1. checks that an impulse comes back as the IR itself from the first sample (zero
//      latency, nothing lost), and exits with status 2 if it does not;
//   2. times `reps` runs of <seconds> of white noise through process(sync = true), which
//      waits for the worker threads' partitions, so the output is exact whatever the
//      scheduling, and prints the median wall time and the median process CPU time (all
//      threads) per second of audio at 48 kHz.
// Run it pinned to one core (taskset -c 0) so the worker threads share the caller's core.

#include <zita-convolver.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <unistd.h>
#include <vector>

static double clock_s(clockid_t id) {
    timespec t;
    clock_gettime(id, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: zita_cells <ir.f32> <block> <seconds> <reps>\n");
        return 1;
    }
    const unsigned block = atoi(argv[2]);
    const double seconds = atof(argv[3]);
    const int reps = atoi(argv[4]);
    const double rate = 48000.0;

    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    std::vector<float> all;
    float v;
    while (fread(&v, sizeof v, 1, f) == 1) all.push_back(v);
    fclose(f);
    const unsigned len = all.size() / 2;
    float *ir[2] = {all.data(), all.data() + len};

    Convproc conv;
    conv.set_options(Convproc::OPT_FFTW_MEASURE | Convproc::OPT_VECTOR_MODE);
    if (conv.configure(2, 2, len, block, block, Convproc::MAXPART, 0.5f)) {
        fprintf(stderr, "configure failed (block %u, %u taps)\n", block, len);
        return 1;
    }
    for (unsigned c = 0; c < 2; c++) conv.impdata_create(c, c, 1, ir[c], 0, len);
    if (conv.start_process(0, SCHED_OTHER)) {
        fprintf(stderr, "start_process failed\n");
        return 1;
    }
    // Its worker threads start asynchronously: a buffer handed over before they run is
    // processed out of step (seen as a wrong impulse response), so wait for them as a JACK
    // client waits for its first period.
    usleep(200000);

    // 1. An impulse returns the IR from the first sample (after a second of silence, so every
    //    worker thread has started).
    for (unsigned k = 0; k < 48000 / block; k++) {
        for (unsigned c = 0; c < 2; c++) std::fill(conv.inpdata(c), conv.inpdata(c) + block, 0.0f);
        conv.process(true);
    }
    double err = 0.0;
    const unsigned calls = (len + block - 1) / block + 1;
    for (unsigned k = 0; k < calls; k++) {
        for (unsigned c = 0; c < 2; c++) {
            float *in = conv.inpdata(c);
            std::fill(in, in + block, 0.0f);
            if (k == 0) in[0] = 1.0f;
        }
        conv.process(true);
        for (unsigned c = 0; c < 2; c++) {
            const float *out = conv.outdata(c);
            for (unsigned i = 0; i < block; i++) {
                const unsigned n = k * block + i;
                const float want = n < len ? ir[c][n] : 0.0f;
                err = std::max(err, (double)std::fabs(out[i] - want));
            }
        }
    }
    if (err > 1e-4) {
        fprintf(stderr, "impulse response differs from the IR by %g\n", err);
        return 2;
    }

    // 2. Timing on noise, after a warm-up of the longest partitions.
    const unsigned n_calls = (unsigned)(seconds * rate) / block;
    std::vector<float> noise(block * 64);
    unsigned s = 1;
    for (auto &x : noise) {
        s = s * 1664525u + 1013904223u;
        x = (float)((double)s / 4294967296.0 * 2.0 - 1.0);
    }
    auto run = [&](unsigned n) {
        for (unsigned k = 0; k < n; k++) {
            const float *src = noise.data() + (k % 64) * block;
            for (unsigned c = 0; c < 2; c++) std::copy(src, src + block, conv.inpdata(c));
            conv.process(true);
        }
    };
    run(std::max(16384u / block, 4u) * 2);
    std::vector<double> wall, cpu;
    for (int r = 0; r < reps; r++) {
        const double w0 = clock_s(CLOCK_MONOTONIC), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        run(n_calls);
        const double audio = n_calls * block / rate;
        wall.push_back((clock_s(CLOCK_MONOTONIC) - w0) / audio);
        cpu.push_back((clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0) / audio);
    }
    std::sort(wall.begin(), wall.end());
    std::sort(cpu.begin(), cpu.end());
    printf("%.6f %.6f %g\n", wall[reps / 2], cpu[reps / 2], err);
    conv.stop_process();
    conv.cleanup();
    return 0;
}
