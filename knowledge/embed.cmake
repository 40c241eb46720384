# Turns a file into a C source defining kb_bundled_json[] and kb_bundled_len (cmake -P).
file(READ "${IN}" hex HEX)
string(LENGTH "${hex}" hexlen)
math(EXPR len "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${hex}")
string(REGEX REPLACE "((0x..,){16})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUT}" "/* Generated from knowledge/bundled.json by knowledge/embed.cmake: do not edit. */\n"
  "#include <stddef.h>\n"
  "const char kb_bundled_json[] = {\n${bytes}0x00};\n"
  "const size_t kb_bundled_len = ${len};\n")
