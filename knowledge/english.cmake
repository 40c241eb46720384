# Turns Debian's word list (package wamerican) into a C source of its words in lowercase, sorted
# bytewise with their offsets, for english_is_word() (cmake -DIN=... -DOUT=... -P english.cmake).
if(NOT EXISTS "${IN}")
  message(FATAL_ERROR "${IN} is missing: install Debian's wamerican package (apt-get install wamerican)")
endif()
# Names count as words too ("Paris" must not be "corrected" to "parts"), in lowercase.
file(STRINGS "${IN}" words REGEX "^[A-Za-z]+$")
string(TOLOWER "${words}" words)
list(REMOVE_DUPLICATES words)
list(SORT words)
list(LENGTH words count)
set(text "")
set(offsets "")
set(at 0)
foreach(w IN LISTS words)
  string(APPEND text "\"${w}\\0\"\n")
  string(APPEND offsets "${at},")
  string(LENGTH "${w}" n)
  math(EXPR at "${at} + ${n} + 1")
endforeach()
file(WRITE "${OUT}" "/* Generated from ${IN} by knowledge/english.cmake: do not edit. */\n"
  "#include <stddef.h>\n#include <stdint.h>\n"
  "const size_t english_count = ${count};\n"
  "const char english_words[] =\n${text};\n"
  "const uint32_t english_offsets[] = {${offsets}};\n")
