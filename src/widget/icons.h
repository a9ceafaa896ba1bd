/*
 * icons.h - small inline SVG marks for the provider buttons.
 *
 * The marks are simple geometric shapes in each provider's colour,
 * drawn for ferry (no provider's logo artwork is reproduced). A provider
 * without a drawn mark gets a monogram: the first letter of its name on
 * a rounded square whose colour is derived from the resource name, so it
 * stays the same from page to page. Every icon is decorative
 * (aria-hidden="true", focusable="false"): the button's text names the
 * provider.
 */
#ifndef FERRY_WIDGET_ICONS_H
#define FERRY_WIDGET_ICONS_H

#include "core/buf.h"

/* Width and height, in CSS pixels, of every icon. */
#define ICON_SIZE 28

/*
 * Append to `b` an inline SVG (a complete <svg ...>...</svg> element, no
 * external reference, no style attribute, no script) for `resource`
 * ("OURA", any case); a generic monogram icon built from the initial of
 * `name` (or of `resource` when `name` is NULL or empty; "?" when both
 * are) for one without a drawn icon. Both strings are borrowed; the
 * initial is escaped. ERR_TOOBIG when `b` is full.
 */
int icon_svg(struct buf *b, const char *resource, const char *name);

/* 1 when `resource` (any case) has a drawn mark, 0 for a monogram. */
int icon_is_drawn(const char *resource);

#endif
