#include "upstreams.hpp"

#include <future>

#include "ates/platform/trace_context.hpp"

namespace ates::gateway {
namespace {

grpc::ByteBuffer ToByteBuffer(const std::string& bytes) {
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

std::string FromByteBuffer(const grpc::ByteBuffer& buffer) {
  grpc::Slice slice;
  if (!buffer.DumpToSingleSlice(&slice).ok()) return {};
  return std::string(reinterpret_cast<const char*>(slice.begin()), slice.size());
}

std::string TraceparentOf(const grpc::ClientContext& context) {
  const auto& metadata = context.GetServerInitialMetadata();
  auto it = metadata.find(trace::kTraceparentHeader);
  return it == metadata.end() ? "" : std::string(it->second.data(), it->second.size());
}

}  // namespace

Upstreams::Upstreams(const std::vector<std::string>& targets, const platform::ClientTls& tls) {
  for (const auto& target : targets) {
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 30000);
    auto channel = platform::CreateClientChannel(target, tls, args);
    stubs_.push_back(std::make_unique<grpc::GenericStub>(channel));
  }
}

UpstreamReply Upstreams::Call(size_t upstream, const UpstreamCall& call) {
  grpc::ClientContext context;
  context.set_deadline(call.deadline);
  if (!call.authorization.empty()) context.AddMetadata("authorization", call.authorization);
  if (!call.traceparent.empty()) context.AddMetadata(trace::kTraceparentHeader, call.traceparent);
  grpc::ByteBuffer request = ToByteBuffer(call.request);
  grpc::ByteBuffer response;
  std::promise<grpc::Status> done;
  stubs_.at(upstream)->UnaryCall(&context, call.method_path, grpc::StubOptions(), &request,
                                 &response, [&done](grpc::Status s) { done.set_value(s); });
  UpstreamReply reply;
  reply.status = done.get_future().get();
  if (reply.status.ok()) reply.response = FromByteBuffer(response);
  reply.traceparent = TraceparentOf(context);
  return reply;
}

}  // namespace ates::gateway
