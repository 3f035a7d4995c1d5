// Runs every registered native test; prints "N passed, N failed" (read by CI).
#include <cstring>
#include "check.h"

namespace mrcnn_check {
std::vector<TestCase>& registry() { static std::vector<TestCase> r; return r; }
static int g_failures = 0;
void record_failure(const char* file, int line, const char* what) {
  ++g_failures;
  if (g_failures <= 200) fprintf(stderr, "  FAIL %s:%d: %s\n", file, line, what);
}
int failures_in_current_test() { return g_failures; }
}  // namespace mrcnn_check

int main(int argc, char** argv) {
  using namespace mrcnn_check;
  int passed = 0, failed = 0;
  for (const TestCase& t : registry()) {
    if (argc > 1 && !strstr(t.name, argv[1])) continue;
    int before = g_failures;
    t.fn();
    bool ok = g_failures == before;
    printf("%s %s\n", ok ? "ok  " : "FAIL", t.name);
    fflush(stdout);
    (ok ? passed : failed)++;
  }
  printf("%d passed, %d failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}
