// HostedProjection: joins a read model to its runner and implements the Projection
// controls once for all four public projection interfaces. Each concrete projection
// only adds its queries, which go through query(): wait for the requested position,
// then read the model under the shared lock.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

#include "orderlog/projections.h"
#include "orderlog/status.h"
#include "projections/runner.h"

namespace orderlog::projections {

template <typename Interface, typename Model>
class HostedProjection : public Interface {
 public:
  HostedProjection(std::string name, const ProjectionOptions& options) : runner_(std::move(name), &model_, options) {}

  // Checks options, loads the file and starts the runner.
  template <typename Concrete>
  static Result<std::unique_ptr<Interface>> open_as(std::string name, const ProjectionOptions& options) {
    static_assert(std::is_base_of_v<HostedProjection, Concrete>);
    OL_ASSIGN_OR_RETURN(ProjectionOptions checked, checked_options(options));
    auto projection = std::make_unique<Concrete>(std::move(name), checked);
    OL_RETURN_IF_ERROR(projection->runner_.load());
    projection->runner_.start();
    return std::unique_ptr<Interface>(std::move(projection));
  }

  std::string_view name() const override { return runner_.name(); }
  ProjectionProgress progress() const override { return runner_.progress(); }
  Status wait_for(GlobalPosition position, std::chrono::milliseconds timeout) const override {
    return runner_.wait_for(position, timeout);
  }
  Status save() override { return runner_.save(); }
  Status rebuild() override { return runner_.rebuild(); }
  Status close() override { return runner_.close(); }

 protected:
  // Runs `read(model)`, which returns a Result, once the projection has reached
  // consistency.min_position.
  template <typename Read>
  auto query(const ReadConsistency& consistency, Read&& read) const -> decltype(read(std::declval<const Model&>())) {
    if (consistency.min_position.value > 0) {
      OL_RETURN_IF_ERROR(runner_.wait_for(consistency.min_position, consistency.timeout));
    }
    return read_now(std::forward<Read>(read));
  }
  // Runs `read(model)` on the state as it is.
  template <typename Read>
  auto read_now(Read&& read) const -> decltype(read(std::declval<const Model&>())) {
    auto lock = runner_.read_lock();
    return read(static_cast<const Model&>(model_));
  }

 private:
  // Declared before the runner: the runner's destructor stops its thread and saves
  // the model, so the model must outlive it.
  Model model_;
  ProjectionRunner runner_;
};

}  // namespace orderlog::projections
