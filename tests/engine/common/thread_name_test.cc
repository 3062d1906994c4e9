// Thread names (engine/common/thread_name.cc): what /proc shows for a named thread, a
// name cut at Linux's 15 bytes, and the store's writer thread carrying its name.
#include "orderlog/thread_name.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <dirent.h>

#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "../store/store_test_util.h"

namespace orderlog {
namespace {

std::string comm_of(long tid) {
  std::ifstream in("/proc/self/task/" + std::to_string(tid) + "/comm");
  std::string name;
  std::getline(in, name);
  return name;
}

std::vector<std::string> names_of_this_process_threads() {
  std::vector<std::string> names;
  DIR* dir = opendir("/proc/self/task");
  if (dir == nullptr) return names;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] == '.') continue;
    names.push_back(comm_of(std::stol(entry->d_name)));
  }
  closedir(dir);
  return names;
}

std::string name_given_in_a_thread(const std::string& name) {
  std::string seen;
  std::thread thread([&] {
    name_this_thread(name);
    seen = comm_of(static_cast<long>(syscall(SYS_gettid)));
  });
  thread.join();
  return seen;
}

TEST(ThreadName, NamesTheCallingThread) { EXPECT_EQ(name_given_in_a_thread("ol-test"), "ol-test"); }

TEST(ThreadName, ALongNameIsCutAtFifteenBytes) {
  EXPECT_EQ(name_given_in_a_thread("p/orders_by_status"), "p/orders_by_sta");
}

TEST(ThreadName, TheStoresWriterThreadIsNamed) {
  testing::MemEnv env;
  ASSERT_OK_AND_ASSIGN(std::unique_ptr<EventStore> store, testing::open_store(env));
  // The writer names itself as it starts; give it a moment.
  bool found = false;
  for (int attempt = 0; attempt < 200 && !found; ++attempt) {
    for (const std::string& name : names_of_this_process_threads()) found = found || name == "ol-writer";
    if (!found) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace orderlog
