// See thread_name.h.
#include "orderlog/thread_name.h"

#include <pthread.h>

#include <algorithm>
#include <string>

namespace orderlog {

void name_this_thread(std::string_view name) {
  constexpr size_t kNameBytesMax = 15;  // TASK_COMM_LEN less the terminating zero
  const std::string cut(name.substr(0, std::min(name.size(), kNameBytesMax)));
  // Best effort: a thread without its name works the same.
  (void)pthread_setname_np(pthread_self(), cut.c_str());
}

}  // namespace orderlog
