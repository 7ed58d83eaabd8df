# ates_embed_sql(<target> <function> <dir>): compiles every <dir>/*.sql (sorted by
# name) into <target> as `const std::vector<ates::pg::Migration>& <function>()`, so
# a daemon carries its migrations and needs no files at run time.
function(ates_embed_sql target function dir)
  file(GLOB sql_files CONFIGURE_DEPENDS ${dir}/*.sql)
  list(SORT sql_files)
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${function}.cpp)
  # The source-relative name: no absolute path in generated code (same compiler-cache
  # keys in every checkout, ADR 0030).
  file(RELATIVE_PATH from ${CMAKE_SOURCE_DIR} ${dir})
  set(body "// Generated from ${from} by cmake/EmbedSql.cmake. Do not edit.\n")
  string(APPEND body "#include \"ates/platform/pg.hpp\"\n\n")
  string(APPEND body "const std::vector<ates::pg::Migration>& ${function}() {\n")
  string(APPEND body "  static const std::vector<ates::pg::Migration> kMigrations = {\n")
  foreach(f ${sql_files})
    get_filename_component(name ${f} NAME_WE)
    file(READ ${f} sql)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${f})
    string(APPEND body "      {\"${name}\", R\"ates_sql(${sql})ates_sql\"},\n")
  endforeach()
  string(APPEND body "  };\n  return kMigrations;\n}\n")
  file(CONFIGURE OUTPUT ${out} CONTENT "${body}" @ONLY)
  target_sources(${target} PRIVATE ${out})
endfunction()

# ates_embed_queries(<target> <namespace> <header> <dir>): every <dir>/<name>.sql
# becomes a named query `inline constexpr std::string_view k<Name>` (snake_case file
# name in CamelCase: select_task.sql -> kSelectTask) in `<namespace>`, declared in
# the generated header `<header>` that <target> and its users include. SQL lives
# in files a reviewer reads as SQL; the code names what it runs.
function(ates_embed_queries target namespace header dir)
  file(GLOB sql_files CONFIGURE_DEPENDS ${dir}/*.sql)
  list(SORT sql_files)
  set(gen_dir ${CMAKE_CURRENT_BINARY_DIR}/generated_queries)
  # The source-relative name: no absolute path in generated code (same compiler-cache
  # keys in every checkout, ADR 0030).
  file(RELATIVE_PATH from ${CMAKE_SOURCE_DIR} ${dir})
  set(body "// Generated from ${from} by cmake/EmbedSql.cmake. Do not edit.\n")
  string(APPEND body "#pragma once\n\n#include <string_view>\n\nnamespace ${namespace} {\n\n")
  foreach(f ${sql_files})
    get_filename_component(name ${f} NAME_WE)
    string(REPLACE "_" ";" words ${name})
    set(constant "k")
    foreach(word ${words})
      string(SUBSTRING ${word} 0 1 first)
      string(TOUPPER ${first} first)
      string(SUBSTRING ${word} 1 -1 rest)
      string(APPEND constant "${first}${rest}")
    endforeach()
    file(READ ${f} sql)
    set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${f})
    string(APPEND body "// ${name}.sql\ninline constexpr std::string_view ${constant} = R\"ates_sql(${sql})ates_sql\";\n\n")
  endforeach()
  string(APPEND body "}  // namespace ${namespace}\n")
  file(CONFIGURE OUTPUT ${gen_dir}/${header} CONTENT "${body}" @ONLY)
  target_include_directories(${target} PUBLIC ${gen_dir})
endfunction()
