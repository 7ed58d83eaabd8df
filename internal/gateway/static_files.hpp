#pragma once

#include <filesystem>
#include <string>

#include "http_message.hpp"

namespace ates::gateway {

// The built web app from one folder: files by path with their content type,
// index.html for any other GET path (client-side routing), never a directory
// listing nor a file outside the folder.
class StaticFiles final {
 public:
  explicit StaticFiles(std::filesystem::path root);

  // GET or HEAD of `request.path`; 404 for a missing file with an extension
  // (assets) or when there is no index.html, 400 for a path that climbs out.
  HttpResponse Serve(const HttpRequest& request) const;

  // "text/html; charset=utf-8", "text/javascript; charset=utf-8", ... by extension.
  static std::string ContentType(const std::filesystem::path& file);

 private:
  // The regular file inside root_ for `path`, or an empty path.
  std::filesystem::path Resolve(const std::string& path) const;
  HttpResponse FileResponse(const std::filesystem::path& file, bool head) const;

  std::filesystem::path root_;
};

}  // namespace ates::gateway
