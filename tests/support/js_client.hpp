#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

typedef struct __natsConnection natsConnection;
typedef struct __jsCtx jsCtx;

namespace ates::test {

// One message as stored in a stream.
struct StreamMessage {
  uint64_t seq = 0;
  std::string subject;
  std::map<std::string, std::string> headers;
  std::string data;

  std::string Header(const std::string& key) const {
    auto it = headers.find(key);
    return it == headers.end() ? "" : it->second;
  }
};

struct ConsumerState {
  uint64_t num_pending = 0;     // not yet delivered
  int64_t num_ack_pending = 0;  // delivered, not acked
  int64_t num_redelivered = 0;
  uint64_t delivered_stream_seq = 0;
  uint64_t ack_floor_stream_seq = 0;
  int64_t max_deliver = 0;  // the server's delivery limit, -1 for none
};

struct PublishResult {
  uint64_t seq = 0;
  bool duplicate = false;
};

// A plain NATS/JetStream client for tests: reads streams message by message
// (js_GetMsg by sequence, so nothing is consumed), publishes with headers and
// inspects consumers. It reconnects for ever, so it survives StopNats().
class JsClient final {
 public:
  explicit JsClient(const std::string& url);
  ~JsClient();
  JsClient(const JsClient&) = delete;
  JsClient& operator=(const JsClient&) = delete;

  bool Connected() const;
  bool WaitConnected(std::chrono::milliseconds timeout);

  void AddStream(const std::string& name, const std::vector<std::string>& subjects,
                 std::chrono::milliseconds duplicate_window,
                 std::chrono::milliseconds max_age = std::chrono::milliseconds(0));
  struct StreamLimits {
    std::chrono::milliseconds max_age{0};
    int64_t max_bytes = -1;
  };
  StreamLimits Limits(const std::string& stream);
  // Changes a stream's size limit, as an operator with the nats CLI would.
  void SetMaxBytes(const std::string& stream, int64_t max_bytes);
  bool StreamExists(const std::string& name);
  // Last sequence of the stream, 0 when empty or absent.
  uint64_t LastSeq(const std::string& stream);
  // Every message with sequence >= from_seq; empty when the stream is absent.
  std::vector<StreamMessage> Read(const std::string& stream, uint64_t from_seq = 1);

  // Publishes with the given headers; msg_id (if not empty) goes into Nats-Msg-Id.
  PublishResult Publish(const std::string& subject, const std::string& data,
                        const std::map<std::string, std::string>& headers);

  // The server_name of the stream's leader in a cluster ("" when unknown).
  std::string StreamLeader(const std::string& stream);
  // The stream's configured replicas (0 when unknown).
  int64_t StreamReplicas(const std::string& stream);

  std::optional<ConsumerState> Consumer(const std::string& stream, const std::string& name);
  // Creates a durable pull consumer with a server-side delivery limit, as
  // earlier versions of the platform did.
  void AddLimitedConsumer(const std::string& stream, const std::string& name, int64_t max_deliver);

 private:
  natsConnection* conn_ = nullptr;
  jsCtx* js_ = nullptr;
};

// Publishes an event as a producer would: Nats-Msg-Id, name and version headers.
PublishResult PublishEvent(JsClient& js, const std::string& subject, const std::string& event_id,
                           const std::string& name, int version, const std::string& payload);

}  // namespace ates::test
