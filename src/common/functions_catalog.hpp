#pragma once
// Catalog functions (functions_catalog.cpp): pg_get_indexdef, pg_get_constraintdef,
// pg_get_viewdef, pg_get_ruledef and pg_get_expr read the catalog through
// EvalContext::catalog (functions.hpp CatalogAccess); without one they return NULL. The
// registration is internal (functions_internal.hpp); this header exists for the comment.
