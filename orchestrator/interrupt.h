// The first Ctrl-C (event_loop.h sets it): the executors read it between
// steps, start nothing new, and finish or undo what was begun.
#pragma once

namespace plugbox::orchestrator {

class Interrupt {
 public:
  void raise() { raised_ = true; }
  bool raised() const { return raised_; }

 private:
  bool raised_ = false;
};

}  // namespace plugbox::orchestrator
