/* The names of the security states; see sec.h. */
#include "resolver/dnssec/sec.h"

const char *sec_state_name(enum sec_state s) {
  static const char *names[] = {"indeterminate", "insecure", "secure", "bogus"};
  return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}
