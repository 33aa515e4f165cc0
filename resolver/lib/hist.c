/* The bucket bounds every histogram uses; see hist.h. */
#include "resolver/lib/hist.h"

static const uint64_t latency_le[] = {25,     50,     100,     250,     500,     1000,
                                      2500,   5000,   10000,   25000,   50000,   100000,
                                      250000, 500000, 1000000, 2500000, 5000000, 10000000};
static const uint64_t length_le[] = {1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32};

const struct hist_bounds hist_latency = {latency_le, sizeof latency_le / sizeof latency_le[0],
                                         1e-6};
const struct hist_bounds hist_length = {length_le, sizeof length_le / sizeof length_le[0], 1};

_Static_assert(sizeof latency_le / sizeof latency_le[0] < HIST_MAX, "latency buckets");
_Static_assert(sizeof length_le / sizeof length_le[0] < HIST_MAX, "length buckets");
