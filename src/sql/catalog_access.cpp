#include "sql/catalog_access.hpp"

#include <cctype>

#include "common/types.hpp"

namespace freshet::sql {

namespace {

constexpr uint32_t kPgCatalogNamespaceOid = 11;
constexpr uint32_t kPublicNamespaceOid = 2200;
constexpr uint32_t kInformationSchemaNamespaceOid = 13000;

// Splits "schema.name" / "\"Name\"" as PostgreSQL's regclassin does: unquoted parts are
// lower-cased, quoted ones kept.
std::pair<std::string, std::string> split_qualified(std::string_view text) {
  std::vector<std::string> parts;
  std::string cur;
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cur += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cur += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == '.') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  parts.push_back(cur);
  if (parts.size() == 1) return {"", parts[0]};
  return {parts[parts.size() - 2], parts.back()};
}

class CatalogViewAccess final : public CatalogAccess {
 public:
  explicit CatalogViewAccess(const CatalogView& c) : c_(c) {}

  std::optional<std::string> relation_name(uint32_t oid) const override {
    if (oid >= 0x40000000u && oid < 0x80000000u) {
      auto kc = key_for(oid - 0x40000000u);
      if (kc) return quote_identifier(kc->name);
      return std::nullopt;
    }
    const ObjectInfo* o = c_.lookup_oid(oid);
    if (!o) return std::nullopt;
    // Qualified when the search path would not find it by its bare name.
    const ObjectInfo* visible = c_.lookup("", o->name);
    if (visible == o) return quote_identifier(o->name);
    return quote_identifier(o->schema) + "." + quote_identifier(o->name);
  }
  std::optional<uint32_t> relation_oid(std::string_view name) const override {
    auto [schema, rel] = split_qualified(name);
    const ObjectInfo* o = c_.lookup(schema, rel);
    if (!o) return std::nullopt;
    return o->oid;
  }
  std::optional<std::string> namespace_name(uint32_t oid) const override {
    for (std::string_view s : {"pg_catalog", "public", "information_schema"})
      if (namespace_oid_of(s) == oid) return std::string(s);
    return std::nullopt;
  }
  std::optional<uint32_t> namespace_oid(std::string_view name) const override {
    auto [schema, n] = split_qualified(name);
    if (!schema.empty()) return std::nullopt;
    if (n == "pg_catalog" || n == "public" || n == "information_schema") return namespace_oid_of(n);
    return std::nullopt;
  }
  std::optional<std::string> role_name(uint32_t oid) const override { return c_.role_name(oid); }
  std::vector<std::string> search_path_schemas(std::string_view user) const override { return c_.search_path_schemas(user); }
  std::optional<uint32_t> role_oid(std::string_view name) const override {
    auto [schema, n] = split_qualified(name);
    if (!schema.empty()) return std::nullopt;
    return c_.role_oid(n);
  }
  bool has_privilege(char kind, std::string_view user, std::string_view object_name, uint32_t object_oid,
                     std::string_view privilege) const override {
    return c_.has_privilege(kind, user, object_name, object_oid, privilege);
  }
  std::optional<std::string> index_definition(uint32_t oid, int column) const override {
    std::vector<std::string> cols;
    std::string def;
    if (oid >= 0x40000000u && oid < 0x80000000u) {
      auto kc = key_for(oid - 0x40000000u);
      if (!kc) return std::nullopt;
      cols = kc->columns;
      def = kc->index_definition;
    } else {
      const ObjectInfo* o = c_.lookup_oid(oid);
      if (!o || o->kind != ObjectKind::kIndex) return std::nullopt;
      // An index records the name of the relation it indexes (in its schema) and copies of its
      // key columns.
      const ObjectInfo* on = c_.lookup(o->schema, o->definition_sql);
      if (!on) return std::nullopt;
      std::string list;
      for (const auto& col : o->columns) {
        cols.push_back(quote_identifier(col.name));
        if (!list.empty()) list += ", ";
        list += cols.back();
      }
      def = "CREATE INDEX " + quote_identifier(o->name) + " ON " + quote_identifier(on->schema) + "." + quote_identifier(on->name) +
            " USING btree (" + list + ")";
    }
    if (column == 0) return def;
    if (column < 0 || column > static_cast<int>(cols.size())) return std::string();
    return cols[static_cast<size_t>(column - 1)];
  }
  std::optional<std::string> constraint_definition(uint32_t oid) const override {
    if (oid < 0x80000000u || oid >= 0xC0000000u) return std::nullopt;
    auto kc = key_for(oid - 0x80000000u);
    if (!kc) return std::nullopt;
    return kc->definition;
  }
  std::optional<std::string> view_definition(uint32_t oid) const override {
    const ObjectInfo* o = c_.lookup_oid(oid);
    if (!o || (o->kind != ObjectKind::kView && o->kind != ObjectKind::kMaterializedView)) return std::nullopt;
    return o->definition_sql;
  }
  std::optional<std::string> rule_definition(uint32_t oid) const override {
    if (oid < 0xC0000000u || oid >= 0xE0000000u) return std::nullopt;
    const ObjectInfo* o = c_.lookup_oid(oid - 0xC0000000u);
    if (!o || (o->kind != ObjectKind::kView && o->kind != ObjectKind::kMaterializedView)) return std::nullopt;
    return "CREATE RULE \"_RETURN\" AS\n    ON SELECT TO " + quote_identifier(o->schema) + "." + quote_identifier(o->name) +
           " DO INSTEAD  " + o->definition_sql + ";";
  }

 private:
  std::optional<KeyConstraint> key_for(uint32_t slot) const {
    const ObjectInfo* t = c_.lookup_oid(slot >> 5);
    if (!t || t->kind != ObjectKind::kTable) return std::nullopt;
    return key_constraint(*t, slot & 31u);
  }

  const CatalogView& c_;
};

}  // namespace

std::shared_ptr<const CatalogAccess> catalog_access(const CatalogView& catalog) {
  return std::make_shared<CatalogViewAccess>(catalog);
}

uint32_t namespace_oid_of(std::string_view schema) {
  if (schema == "pg_catalog") return kPgCatalogNamespaceOid;
  if (schema == "public") return kPublicNamespaceOid;
  if (schema == "information_schema") return kInformationSchemaNamespaceOid;
  // Any other schema (CREATE SCHEMA): FNV-1a of its name in [2^31, 2^32), far from the oids
  // Freshet hands out, so that a schema's oid needs no catalog (pg_class.relnamespace is
  // computed per object) and two schemas practically never share one.
  uint32_t h = 2166136261u;
  for (unsigned char ch : schema) h = (h ^ ch) * 16777619u;
  return 0x80000000u | h;
}

std::string quote_identifier(std::string_view name) {
  bool plain = !name.empty() && (std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_');
  for (char ch : name)
    if (!(std::islower(static_cast<unsigned char>(ch)) || std::isdigit(static_cast<unsigned char>(ch)) || ch == '_')) plain = false;
  if (plain) return std::string(name);
  std::string out = "\"";
  for (char ch : name) {
    if (ch == '"') out += '"';
    out += ch;
  }
  return out + "\"";
}

std::optional<KeyConstraint> key_constraint(const ObjectInfo& t, size_t k) {
  const std::vector<uint32_t>* cols = nullptr;
  if (k == 0) {
    if (t.primary_key.empty()) return std::nullopt;
    cols = &t.primary_key;
  } else {
    if (k - 1 >= t.unique_keys.size()) return std::nullopt;
    cols = &t.unique_keys[k - 1];
  }
  KeyConstraint kc;
  if (k == 0) {
    kc.name = t.name + "_pkey";
  } else {
    kc.name = t.name;
    for (auto c : *cols) kc.name += "_" + t.columns[c].name;
    kc.name += "_key";
  }
  std::string list;
  for (auto c : *cols) {
    kc.columns.push_back(quote_identifier(t.columns[c].name));
    if (!list.empty()) list += ", ";
    list += kc.columns.back();
  }
  kc.definition = std::string(k == 0 ? "PRIMARY KEY (" : "UNIQUE (") + list + ")";
  kc.index_definition = "CREATE UNIQUE INDEX " + quote_identifier(kc.name) + " ON " + quote_identifier(t.schema) + "." +
                        quote_identifier(t.name) + " USING btree (" + list + ")";
  return kc;
}

}  // namespace freshet::sql
