// Writing man(7) roff: escaping text so that no character of a help line is
// read as a request or an escape, and the few macros the pages use.
#pragma once

#include <string>
#include <string_view>

namespace plugbox::docgen {

// Text safe on a roff text line: '\' becomes \e, '-' becomes \- (so options
// print and copy as ASCII hyphen-minus), and a line that would start with
// '.' or '\'' (a request) is guarded with \&. Newlines are kept.
std::string roff_escape(std::string_view text);

class Roff {
 public:
  // .TH: `title` in capitals by convention; `source` is "plugbox 0.1.0".
  Roff(const std::string& title, int section, const std::string& source, const std::string& manual);
  void section(const std::string& name);     // .SH
  void subsection(const std::string& text);  // .SS
  // .PP then the escaped text; a newline before a capital or '`' is a line
  // break, any other a space.
  void paragraph(const std::string& text);
  // .TP: a tag line (already roff: use bold()/italic()) and its body, as a paragraph's text.
  void tagged(const std::string& tag_roff, const std::string& body);
  void raw(const std::string& roff_line);    // a line written as is
  // Literal lines, kept as written (.nf/.fi, indented).
  void example(const std::string& text);
  const std::string& str() const { return out_; }

 private:
  std::string out_;
};

std::string bold(std::string_view text);    // \fB...\fR, escaped
std::string italic(std::string_view text);  // \fI...\fR, escaped

}  // namespace plugbox::docgen
