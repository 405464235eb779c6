// A small XML tree, parsed with expat: enough for S3's responses (ListBucketResult, Error,
// InitiateMultipartUploadResult, CompleteMultipartUploadResult, CopyObjectResult).
// Namespaces are dropped from element names ("{ns}Key" is "Key"); attributes are ignored.
// Thread-safety: values; parsing is reentrant.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace fleetlog {

struct XmlElement {
  std::string name;
  std::string text;  // the concatenated character data directly inside this element
  std::vector<XmlElement> children;

  // The first child named `name`, or null.
  const XmlElement* Child(std::string_view child_name) const;
  // The text of the first child named `name`, or "".
  std::string ChildText(std::string_view child_name) const;
  // Every child named `name`.
  std::vector<const XmlElement*> Children(std::string_view child_name) const;
};

// Parses a document into its root element. kCorruption when it is not well-formed XML.
Result<XmlElement> ParseXml(std::string_view document);

// Escapes & < > " ' for element text.
std::string XmlEscape(std::string_view text);

}  // namespace fleetlog
