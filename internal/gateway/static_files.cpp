#include "static_files.hpp"

#include <fstream>
#include <map>
#include <sstream>

namespace ates::gateway {
namespace fs = std::filesystem;
namespace {

// A request path whose segments would leave the root ("..", "\", NUL).
bool Climbs(const std::string& path) {
  if (path.find('\0') != std::string::npos || path.find('\\') != std::string::npos) return true;
  std::stringstream segments(path);
  std::string segment;
  while (std::getline(segments, segment, '/')) {
    if (segment == "..") return true;
  }
  return false;
}

HttpResponse Plain(int status, const std::string& text) {
  HttpResponse r;
  r.status = status;
  r.SetHeader("Content-Type", "text/plain; charset=utf-8");
  r.body = text + "\n";
  return r;
}

}  // namespace

StaticFiles::StaticFiles(fs::path root) : root_(std::move(root)) {
  std::error_code ec;
  auto canonical = fs::weakly_canonical(root_, ec);
  if (!ec) root_ = canonical;
}

std::string StaticFiles::ContentType(const fs::path& file) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".map", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".jpg", "image/jpeg"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".webmanifest", "application/manifest+json"}};
  auto it = kTypes.find(file.extension().string());
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

fs::path StaticFiles::Resolve(const std::string& path) const {
  std::error_code ec;
  fs::path candidate = fs::weakly_canonical(root_ / fs::path(path).relative_path(), ec);
  if (ec) return {};
  // Symlinks are resolved by weakly_canonical: the file must still be under root_.
  auto [root_end, unused] = std::mismatch(root_.begin(), root_.end(), candidate.begin());
  if (root_end != root_.end()) return {};
  if (!fs::is_regular_file(candidate, ec)) return {};
  return candidate;
}

HttpResponse StaticFiles::FileResponse(const fs::path& file, bool head) const {
  std::ifstream in(file, std::ios::binary);
  if (!in) return Plain(404, "not found");
  HttpResponse r;
  r.SetHeader("Content-Type", ContentType(file));
  // Vite puts a content hash in asset names: they never change.
  bool hashed_asset = file.parent_path().filename() == "assets";
  r.SetHeader("Cache-Control", hashed_asset ? "public, max-age=31536000, immutable" : "no-cache");
  if (!head) r.body.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return r;
}

HttpResponse StaticFiles::Serve(const HttpRequest& request) const {
  if (Climbs(request.path) || Climbs(request.raw_path)) return Plain(400, "bad path");
  bool head = request.method == "HEAD";
  fs::path file = Resolve(request.path);
  if (!file.empty()) return FileResponse(file, head);
  // A missing asset is a 404; any other path is a page of the app.
  if (fs::path(request.path).has_extension()) return Plain(404, "not found");
  fs::path index = Resolve("/index.html");
  if (index.empty()) return Plain(404, "the web app is not built (no index.html)");
  return FileResponse(index, head);
}

}  // namespace ates::gateway
