#include "storage/xml.h"

#include <expat.h>

namespace fleetlog {
namespace {

// Builds the tree while expat walks the document; `stack` holds the open elements.
struct TreeBuilder {
  XmlElement root;
  std::vector<XmlElement*> stack;
  bool has_root = false;

  static std::string LocalName(const char* name) {
    std::string_view view(name);
    size_t sep = view.rfind('\x1f');  // the namespace separator we ask expat for
    return std::string(sep == std::string_view::npos ? view : view.substr(sep + 1));
  }

  static void Start(void* data, const char* name, const char** /*attributes*/) {
    auto* self = static_cast<TreeBuilder*>(data);
    XmlElement* element;
    if (self->stack.empty()) {
      element = &self->root;
      self->has_root = true;
    } else {
      self->stack.back()->children.emplace_back();
      element = &self->stack.back()->children.back();
    }
    element->name = LocalName(name);
    self->stack.push_back(element);
  }

  static void End(void* data, const char* /*name*/) { static_cast<TreeBuilder*>(data)->stack.pop_back(); }

  static void Text(void* data, const char* text, int length) {
    auto* self = static_cast<TreeBuilder*>(data);
    if (!self->stack.empty()) self->stack.back()->text.append(text, static_cast<size_t>(length));
  }
};

}  // namespace

const XmlElement* XmlElement::Child(std::string_view child_name) const {
  for (const XmlElement& child : children) {
    if (child.name == child_name) return &child;
  }
  return nullptr;
}

std::string XmlElement::ChildText(std::string_view child_name) const {
  const XmlElement* child = Child(child_name);
  return child ? child->text : std::string();
}

std::vector<const XmlElement*> XmlElement::Children(std::string_view child_name) const {
  std::vector<const XmlElement*> out;
  for (const XmlElement& child : children) {
    if (child.name == child_name) out.push_back(&child);
  }
  return out;
}

Result<XmlElement> ParseXml(std::string_view document) {
  // Children live in vectors that grow while parsing: the stack holds pointers into them, so a
  // child is only ever appended to the innermost open element, whose vector no one else grows.
  TreeBuilder builder;
  XML_Parser parser = XML_ParserCreateNS(nullptr, '\x1f');
  if (parser == nullptr) return Internal("expat: out of memory");
  XML_SetUserData(parser, &builder);
  XML_SetElementHandler(parser, &TreeBuilder::Start, &TreeBuilder::End);
  XML_SetCharacterDataHandler(parser, &TreeBuilder::Text);
  bool ok = XML_Parse(parser, document.data(), static_cast<int>(document.size()), /*isFinal=*/1) == XML_STATUS_OK;
  std::string error = ok ? "" : fmt::format("{} at line {}", XML_ErrorString(XML_GetErrorCode(parser)),
                                            XML_GetCurrentLineNumber(parser));
  XML_ParserFree(parser);
  if (!ok) return Status(StatusCode::kCorruption, "malformed XML: " + error);
  if (!builder.has_root) return Status(StatusCode::kCorruption, "malformed XML: no root element");
  return std::move(builder.root);
}

std::string XmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace fleetlog
