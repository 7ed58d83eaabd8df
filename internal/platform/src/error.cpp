#include "ates/platform/error.hpp"

namespace ates {

void Validator::ThrowIfInvalid() const {
  if (violations_.empty()) return;
  std::string message = "invalid request: ";
  for (size_t i = 0; i < violations_.size(); ++i) {
    if (i) message += "; ";
    message += violations_[i].field + ": " + violations_[i].description;
  }
  throw Error(ErrorCode::kInvalidArgument, message, violations_);
}

}  // namespace ates
