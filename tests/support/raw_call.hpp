#pragma once
// gRPC calls by full method name with raw bytes (a generic stub): what a
// fuzzer or an attacker sends, whatever the schema says; and the services a
// daemon lists through its server reflection.

#include <google/protobuf/unknown_field_set.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/support/sync_stream.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace ates::test {

// A unary call by full method name ("/pkg.Svc/Method") with raw request bytes.
inline grpc::Status RawCall(grpc::Channel& channel, const std::string& method,
                            const std::string& request, const std::string& token,
                            std::string* response = nullptr,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
  if (!token.empty()) ctx.AddMetadata("authorization", "Bearer " + token);
  grpc::Slice slice(request);
  grpc::ByteBuffer req(&slice, 1);
  grpc::ByteBuffer resp;
  grpc::internal::RpcMethod rpc(method.c_str(), grpc::internal::RpcMethod::NORMAL_RPC);
  auto status = grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
      &channel, rpc, &ctx, req, &resp);
  if (status.ok() && response != nullptr) {
    std::vector<grpc::Slice> slices;
    (void)resp.Dump(&slices);
    response->clear();
    for (const auto& s : slices)
      response->append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return status;
}

// The services a daemon serves, by name, as its server reflection lists them
// (grpc.reflection.v1alpha; request and response decoded by field number).
inline std::vector<std::string> ReflectedServices(grpc::Channel& channel) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::internal::RpcMethod rpc("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                grpc::internal::RpcMethod::BIDI_STREAMING);
  std::unique_ptr<grpc::ClientReaderWriter<grpc::ByteBuffer, grpc::ByteBuffer>> stream(
      grpc::internal::ClientReaderWriterFactory<grpc::ByteBuffer, grpc::ByteBuffer>::Create(
          &channel, rpc, &ctx));
  std::string list_services("\x3a\x00", 2);  // field 7 (list_services) = ""
  grpc::Slice slice(list_services);
  grpc::ByteBuffer req(&slice, 1);
  grpc::ByteBuffer resp;
  std::vector<std::string> names;
  if (!stream->Write(req) || !stream->WritesDone() || !stream->Read(&resp)) return names;
  std::vector<grpc::Slice> slices;
  (void)resp.Dump(&slices);
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  (void)stream->Finish();
  google::protobuf::UnknownFieldSet top;
  if (!top.ParseFromString(bytes)) return names;
  for (int i = 0; i < top.field_count(); ++i) {
    if (top.field(i).number() != 6) continue;  // list_services_response
    google::protobuf::UnknownFieldSet list;
    if (!list.ParseFromString(top.field(i).length_delimited())) continue;
    for (int j = 0; j < list.field_count(); ++j) {
      google::protobuf::UnknownFieldSet service;
      if (!service.ParseFromString(list.field(j).length_delimited())) continue;
      for (int k = 0; k < service.field_count(); ++k) {
        if (service.field(k).number() == 1) names.push_back(service.field(k).length_delimited());
      }
    }
  }
  return names;
}

}  // namespace ates::test
