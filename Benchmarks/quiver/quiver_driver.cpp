// Timing driver for the QUIVER C++ reference (github.com/ranbenbasat/QUIVER, NeurIPS 2024,
// arXiv:2402.03158) beside swift-vq's ASQ solvers. Our code: it only includes QUIVER's headers and calls
// its public classes (ExactQUIVER<weighted, accelerated>, ApproxQUIVER<weighted>); run.sh builds it with
// g++ -O3 -march=native against a QUIVER checkout.
//
//   quiver_driver generate DIST LOG2D SEED OUT.npy    write one float32 vector (1-D .npy) of 2^LOG2D values,
//                                                     N(0,1) (DIST = normal) or exp(N(0,1)) (lognormal),
//                                                     std::mt19937_64(SEED) + std::normal_distribution
//   quiver_driver time SOLVER IN.npy S [M]            solve once and print one JSON line
//
// SOLVER: sort (std::sort of the doubles only), exact, exact+sort, accelerated (ExactQUIVER<false, false|true> on the
// sorted vector: constructor + calcQuantizationValues, sort excluded, as QUIVER's interface takes a sorted
// vector; exact+sort includes the sort), approx (ApproxQUIVER<false> with M grid points, sort excluded),
// approx+sort (the sort included: QUIVER's approximate solver end to end). The JSON line has cpu_ms (CLOCK_THREAD_CPUTIME_ID: the thread's
// CPU time, robust to other jobs on a loaded machine), wall_ms (CLOCK_MONOTONIC), vnmse = Σ (x − a)(b − x)
// / ‖x‖² of the returned levels on the input (computed here), and the levels' count.
// <cmath> first: the reference headers call ceil without including it.
#include <cmath>

#include "ExactQUIVER.h"
#include "ApproxQUIVER.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

namespace {

double seconds(clockid_t clock) {
  timespec t;
  clock_gettime(clock, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

[[noreturn]] void fail(const std::string &message) {
  std::fprintf(stderr, "error: %s\n", message.c_str());
  std::exit(2);
}

/// A 1-D little-endian float32 .npy (format 1.0), the layout `vq asq --input` reads as one vector.
void writeNpy(const std::string &path, const std::vector<float> &x) {
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(x.size()) + ",), }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  FILE *f = std::fopen(path.c_str(), "wb");
  if (!f) fail("cannot write " + path);
  const unsigned char magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  std::fwrite(magic, 1, 8, f);
  unsigned short length = (unsigned short)header.size();
  unsigned char le[2] = {(unsigned char)(length & 0xff), (unsigned char)(length >> 8)};
  std::fwrite(le, 1, 2, f);
  std::fwrite(header.data(), 1, header.size(), f);
  std::fwrite(x.data(), sizeof(float), x.size(), f);
  std::fclose(f);
}

/// Reads back what writeNpy wrote (1-D '<f4' only).
std::vector<float> readNpy(const std::string &path) {
  FILE *f = std::fopen(path.c_str(), "rb");
  if (!f) fail("cannot read " + path);
  unsigned char start[10];
  if (std::fread(start, 1, 10, f) != 10 || start[0] != 0x93 || start[6] != 1) fail(path + ": not a version 1 .npy");
  size_t length = size_t(start[8]) | (size_t(start[9]) << 8);
  std::string header(length, ' ');
  if (std::fread(&header[0], 1, length, f) != length) fail(path + ": short header");
  if (header.find("'<f4'") == std::string::npos) fail(path + ": expected dtype '<f4'");
  size_t open = header.find("'shape': (");
  if (open == std::string::npos) fail(path + ": no shape");
  size_t n = std::strtoull(header.c_str() + open + 10, nullptr, 10);
  std::vector<float> x(n);
  if (std::fread(x.data(), sizeof(float), n, f) != n) fail(path + ": short data");
  std::fclose(f);
  return x;
}

/// Σ (x − a)(b − x) / ‖x‖² for sorted x and sorted levels covering [x_0, x_{n−1}].
double vnmse(const std::vector<double> &sorted, const std::vector<double> &levels) {
  double variance = 0, norm = 0;
  size_t upper = 1;
  for (double v : sorted) {
    while (upper + 1 < levels.size() && v > levels[upper]) upper++;
    variance += (v - levels[upper - 1]) * (levels[upper] - v);
    norm += v * v;
  }
  return norm > 0 ? variance / norm : 0;
}

}  // namespace

int main(int argc, char **argv) {
  if (argc >= 6 && std::strcmp(argv[1], "generate") == 0) {
    std::string dist = argv[2];
    if (dist != "normal" && dist != "lognormal") fail("DIST must be normal or lognormal, got " + dist);
    int log2d = std::atoi(argv[3]);
    if (log2d < 1 || log2d > 28) fail("LOG2D must be in 1...28");
    std::mt19937_64 generator(std::strtoull(argv[4], nullptr, 10));
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<float> x(size_t(1) << log2d);
    for (auto &v : x) v = float(dist == "lognormal" ? std::exp(normal(generator)) : normal(generator));
    writeNpy(argv[5], x);
    return 0;
  }
  if (argc < 5 || std::strcmp(argv[1], "time") != 0) {
    std::fprintf(stderr, "usage: %s generate DIST LOG2D SEED OUT.npy | time SOLVER IN.npy S [M]\n", argv[0]);
    return 2;
  }
  std::string solver = argv[2];
  std::vector<float> input = readNpy(argv[3]);
  int s = std::atoi(argv[4]);
  int M = argc > 5 ? std::atoi(argv[5]) : 1000;
  if (s < 2) fail("S must be at least 2");
  std::vector<double> x(input.begin(), input.end());
  std::vector<double> sorted = x;
  std::vector<double> levels;

  double cpu0 = 0, wall0 = 0;
  auto start = [&] { cpu0 = seconds(CLOCK_THREAD_CPUTIME_ID); wall0 = seconds(CLOCK_MONOTONIC); };
  if (solver == "sort" || solver == "approx+sort" || solver == "exact+sort") {
    start();
    std::sort(sorted.begin(), sorted.end());
    if (solver == "approx+sort") {
      ApproxQUIVER<false> quiver(sorted.data(), uint32_t(sorted.size()), nullptr, M);
      levels = quiver.calcQuantizationValues(uint32_t(s));
    } else if (solver == "exact+sort") {
      ExactQUIVER<false, false> quiver(sorted.data(), uint32_t(sorted.size()), nullptr);
      levels = quiver.calcQuantizationValues(uint32_t(s));
    }
  } else {
    std::sort(sorted.begin(), sorted.end());
    start();
    if (solver == "exact") {
      ExactQUIVER<false, false> quiver(sorted.data(), uint32_t(sorted.size()), nullptr);
      levels = quiver.calcQuantizationValues(uint32_t(s));
    } else if (solver == "accelerated") {
      ExactQUIVER<false, true> quiver(sorted.data(), uint32_t(sorted.size()), nullptr);
      levels = quiver.calcQuantizationValues(uint32_t(s));
    } else if (solver == "approx") {
      ApproxQUIVER<false> quiver(sorted.data(), uint32_t(sorted.size()), nullptr, M);
      levels = quiver.calcQuantizationValues(uint32_t(s));
    } else {
      fail("SOLVER must be sort, exact, exact+sort, accelerated, approx or approx+sort, got " + solver);
    }
  }
  double cpu = seconds(CLOCK_THREAD_CPUTIME_ID) - cpu0, wall = seconds(CLOCK_MONOTONIC) - wall0;
  std::printf("{\"solver\": \"quiver %s\", \"d\": %zu, \"s\": %d, \"cpu_ms\": %.3f, \"wall_ms\": %.3f, \"vnmse\": %.10g, \"levels\": %zu}\n",
              solver.c_str(), x.size(), s, cpu * 1e3, wall * 1e3, levels.empty() ? 0.0 : vnmse(sorted, levels),
              levels.size());
  return 0;
}
