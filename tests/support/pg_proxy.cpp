#include "support/pg_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ates::test {
namespace {

constexpr uint32_t kSslRequest = 80877103;
constexpr uint32_t kGssRequest = 80877104;

uint32_t ReadBe32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return ntohl(v);
}

bool WriteAll(int fd, const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::send(fd, data, size, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

int ConnectLocal(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

// The NUL-terminated strings at the start of a message body.
std::vector<std::string> Strings(std::string_view body, size_t count) {
  std::vector<std::string> out;
  size_t at = 0;
  while (out.size() < count && at < body.size()) {
    size_t end = body.find('\0', at);
    if (end == std::string::npos) end = body.size();
    out.emplace_back(body.substr(at, end - at));
    at = end + 1;
  }
  out.resize(count);
  return out;
}

// The first word, upper-cased.
std::string Verb(const std::string& sql) {
  size_t from = 0;
  while (from < sql.size() && std::isspace(static_cast<unsigned char>(sql[from]))) ++from;
  std::string verb;
  for (size_t i = from; i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i])); ++i) {
    verb.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i]))));
  }
  return verb;
}

}  // namespace

// One client connection and its upstream connection.
struct PgProxy::Link {
  int client = -1;
  int server = -1;
  bool in_block = false;    // after BEGIN, until COMMIT/ROLLBACK
  bool saw_needle = false;  // since the last commit point
  bool executed = false;    // a statement ran since the last commit point
  std::unordered_map<std::string, std::string> statements;  // name -> SQL
  // Set before a dropped commit is forwarded: nothing more reaches the client.
  std::atomic<bool> dropping{false};
};

PgProxy::PgProxy(int upstream_port) : upstream_port_(upstream_port) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listen_fd_ < 0) throw std::runtime_error("proxy socket failed");
  int one = 1;
  ::setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(listen_fd_, 64) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      ::pipe(wake_) != 0) {
    ::close(listen_fd_);
    throw std::runtime_error(std::string("proxy listen failed: ") + std::strerror(errno));
  }
  port_ = ntohs(addr.sin_port);
  acceptor_ = std::thread([this] { AcceptLoop(); });
}

PgProxy::~PgProxy() {
  stopping_ = true;
  char b = 0;
  (void)!::write(wake_[1], &b, 1);
  acceptor_.join();
  std::vector<std::thread> links;
  {
    std::lock_guard lock(mu_);
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    links.swap(links_);
  }
  for (auto& t : links) t.join();
  ::close(listen_fd_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

std::string PgProxy::Url(const std::string& database_url) const {
  std::string from = ":" + std::to_string(upstream_port_) + "/";
  auto at = database_url.find(from);
  if (at == std::string::npos) throw std::runtime_error("no port in " + database_url);
  std::string url = database_url;
  url.replace(at, from.size(), ":" + std::to_string(port_) + "/");
  return url;
}

void PgProxy::Arm(Drop drop, const std::string& needle, int times) {
  std::lock_guard lock(mu_);
  drop_ = drop;
  needle_ = needle;
  armed_ = times;
}

void PgProxy::Disarm() {
  std::lock_guard lock(mu_);
  armed_ = 0;
}

void PgProxy::AcceptLoop() {
  for (;;) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (stopping_ || (fds[1].revents & POLLIN)) return;
    if (!(fds[0].revents & POLLIN)) continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    if (refusing_) {
      ::close(fd);
      continue;
    }
    std::lock_guard lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    open_fds_.push_back(fd);
    links_.emplace_back([this, fd] { Serve(fd); });
  }
}

bool PgProxy::ShouldDrop(Link& link, char type, std::string_view body, Drop* how) {
  // What runs: a simple query's text, or at a Bind, the text its statement
  // was parsed from (a prepared statement's text is sent only once).
  std::string sql;
  if (type == 'P') {
    auto parse = Strings(body, 2);  // statement name, query
    link.statements[parse[0]] = parse[1];
    return false;
  }
  if (type == 'Q') sql = Strings(body, 1)[0];
  if (type == 'B') {
    auto bind = Strings(body, 2);  // portal, statement name
    auto it = link.statements.find(bind[1]);
    if (it != link.statements.end()) sql = it->second;
  }
  if (type != 'Q' && type != 'B' && type != 'S') return false;
  std::string verb = Verb(sql);
  bool commit_point = false;
  std::lock_guard lock(mu_);
  if (!needle_.empty() && sql.find(needle_) != std::string::npos) link.saw_needle = true;
  if (type != 'S') link.executed = true;
  if (verb == "BEGIN" || verb == "START") {
    link.in_block = true;
  } else if (verb == "ROLLBACK" || verb == "ABORT") {
    link.in_block = false;
    link.saw_needle = false;
    link.executed = false;
  } else if (verb == "COMMIT" || verb == "END") {
    // A simple query commits at once; a bound COMMIT at the next Sync.
    link.in_block = false;
    commit_point = type == 'Q';
  } else if (type == 'Q') {
    commit_point = !link.in_block;  // a statement of its own commits at its end
  } else if (type == 'S') {
    // The sync ends an implicit transaction, if anything ran in it (not
    // after a bare PQprepare).
    commit_point = !link.in_block && link.executed;
  }
  if (!commit_point) return false;
  bool matches = needle_.empty() || link.saw_needle;
  link.saw_needle = false;
  link.executed = false;
  if (armed_ <= 0 || !matches) return false;
  --armed_;
  ++drops_;  // counted before the client can notice
  *how = drop_;
  return true;
}

void PgProxy::Serve(int client_fd) {
  Link link;
  link.client = client_fd;
  link.server = ConnectLocal(upstream_port_);
  auto forget = [&] {
    std::lock_guard lock(mu_);
    for (int fd : {link.client, link.server}) {
      open_fds_.erase(std::remove(open_fds_.begin(), open_fds_.end(), fd), open_fds_.end());
    }
  };
  if (link.server < 0) {
    forget();
    ::close(client_fd);
    return;
  }
  {
    std::lock_guard lock(mu_);
    open_fds_.push_back(link.server);
  }
  auto cut = [&] {
    ::shutdown(link.client, SHUT_RDWR);
    ::shutdown(link.server, SHUT_RDWR);
  };
  std::thread to_client([&] {
    char buf[16384];
    for (;;) {
      ssize_t n = ::recv(link.server, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      // After a drop the server's replies are read and thrown away until it
      // hangs up: closing with unread data would reset the connection, and a
      // reset can discard the commit before the server has read it.
      if (link.dropping) continue;
      if (!WriteAll(link.client, buf, static_cast<size_t>(n))) break;
    }
    cut();
  });

  // Client to server, message by message.
  std::string in;
  bool startup = true;
  Drop how = Drop::kAfterCommit;
  char buf[16384];
  for (;;) {
    ssize_t n = ::recv(link.client, buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
    std::string out;
    bool dropped = false;
    size_t at = 0;
    for (;;) {
      size_t total;
      char type = 0;
      if (startup) {
        if (in.size() - at < 8) break;
        total = ReadBe32(in.data() + at);
        if (in.size() - at < total) break;
        uint32_t code = ReadBe32(in.data() + at + 4);
        startup = code == kSslRequest || code == kGssRequest;
      } else {
        if (in.size() - at < 5) break;
        type = in[at];
        total = 1 + static_cast<size_t>(ReadBe32(in.data() + at + 1));
        if (in.size() - at < total) break;
      }
      if (type != 0 &&
          ShouldDrop(link, type, std::string_view(in).substr(at + 5, total - 5), &how)) {
        link.dropping = true;
        if (how == Drop::kAfterCommit) out.append(in, at, total);
        WriteAll(link.server, out.data(), out.size());
        dropped = true;
        break;
      }
      out.append(in, at, total);
      at += total;
    }
    if (dropped) {
      ::shutdown(link.client, SHUT_RDWR);
      // The server reads up to here, then EOF (unless the path is to look dead).
      if (how != Drop::kHalfOpen) ::shutdown(link.server, SHUT_WR);
      to_client.join();
      break;
    }
    in.erase(0, at);
    if (!out.empty() && !WriteAll(link.server, out.data(), out.size())) break;
  }
  cut();
  if (to_client.joinable()) to_client.join();
  forget();
  ::close(link.client);
  ::close(link.server);
}

}  // namespace ates::test
