// Client's private state (client.h), shared by the files that implement Client.
#pragma once

#include <memory>

#include "channel.h"
#include "orderlog/client/client.h"

namespace orderlog::client {

struct Client::Impl {
  ClientOptions options;
  std::unique_ptr<detail::Channel> channel;
};

}  // namespace orderlog::client
