# Generates C++ and gRPC code for every .proto under api/ once and compiles it
# into one static library, ates_proto, so no daemon recompiles generated code.
set(ATES_PROTO_ROOTS ${CMAKE_SOURCE_DIR}/api/proto ${CMAKE_SOURCE_DIR}/api/thirdparty)
set(ATES_PROTO_OUT ${CMAKE_BINARY_DIR}/gen)
file(MAKE_DIRECTORY ${ATES_PROTO_OUT})

set(ates_proto_srcs)
foreach(root ${ATES_PROTO_ROOTS})
  file(GLOB_RECURSE protos CONFIGURE_DEPENDS RELATIVE ${root} ${root}/*.proto)
  foreach(rel ${protos})
    string(REGEX REPLACE "\\.proto$" "" base ${rel})
    set(outs ${ATES_PROTO_OUT}/${base}.pb.cc ${ATES_PROTO_OUT}/${base}.pb.h)
    set(grpc_flags)
    file(STRINGS ${root}/${rel} has_service REGEX "^service ")
    if(has_service)
      list(APPEND outs ${ATES_PROTO_OUT}/${base}.grpc.pb.cc ${ATES_PROTO_OUT}/${base}.grpc.pb.h)
      set(grpc_flags --grpc_out=${ATES_PROTO_OUT}
          --plugin=protoc-gen-grpc=$<TARGET_FILE:gRPC::grpc_cpp_plugin>)
    endif()
    add_custom_command(
      OUTPUT ${outs}
      COMMAND protobuf::protoc
      ARGS --cpp_out=${ATES_PROTO_OUT} ${grpc_flags}
           -I ${CMAKE_SOURCE_DIR}/api/proto -I ${CMAKE_SOURCE_DIR}/api/thirdparty
           -I ${Protobuf_INCLUDE_DIRS}
           ${root}/${rel}
      DEPENDS ${root}/${rel} protobuf::protoc gRPC::grpc_cpp_plugin
      COMMENT "protoc ${rel}")
    list(APPEND ates_proto_srcs ${outs})
  endforeach()
endforeach()

add_library(ates_proto STATIC ${ates_proto_srcs})
target_include_directories(ates_proto PUBLIC ${ATES_PROTO_OUT})
target_link_libraries(ates_proto PUBLIC protobuf::libprotobuf gRPC::grpc++)
target_compile_options(ates_proto PRIVATE -w)
