// SPDX-License-Identifier: GPL-2.0-only
#include <math.h>
#include <stdarg.h>
#include <stdio.h>

#include "lib/json.h"

static void emit(struct json *j, const char *fmt, ...)
{
	size_t room = j->len < j->size ? j->size - j->len : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(j->buf + j->len, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room)
		j->overflow = true;
	else
		j->len += n;
}

static void emit_string(struct json *j, const char *s)
{
	emit(j, "\"");
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			emit(j, "\\%c", c);
		else if (c == '\n')
			emit(j, "\\n");
		else if (c == '\t')
			emit(j, "\\t");
		else if (c < 0x20)
			emit(j, "\\u%04x", c);
		else
			emit(j, "%c", c);
	}
	emit(j, "\"");
}

static void emit_key(struct json *j, const char *key)
{
	if (j->need_comma)
		emit(j, ",");
	if (key) {
		emit_string(j, key);
		emit(j, ":");
	}
	j->need_comma = true;
}

void json_init(struct json *j, char *buf, size_t size)
{
	*j = (struct json){ .buf = buf, .size = size };
	if (size)
		buf[0] = '\0';
}

/* An object or array opens ("{", "[") or closes ("}", "]"). */
static void bracket(struct json *j, const char *key, const char *c)
{
	bool open = *c == '{' || *c == '[';

	if (open)
		emit_key(j, key);
	emit(j, "%s", c);
	j->need_comma = !open;
}

void json_begin(struct json *j, const char *key)
{
	bracket(j, key, "{");
}

void json_end(struct json *j)
{
	bracket(j, NULL, "}");
}

void json_begin_array(struct json *j, const char *key)
{
	bracket(j, key, "[");
}

void json_end_array(struct json *j)
{
	bracket(j, NULL, "]");
}

void json_str(struct json *j, const char *key, const char *value)
{
	emit_key(j, key);
	if (value)
		emit_string(j, value);
	else
		emit(j, "null");
}

void json_int(struct json *j, const char *key, long long value)
{
	emit_key(j, key);
	emit(j, "%lld", value);
}

void json_num(struct json *j, const char *key, double value)
{
	emit_key(j, key);
	/* JSON has no NaN or infinity. */
	if (isfinite(value))
		emit(j, "%.9g", value);
	else
		emit(j, "null");
}

void json_bool(struct json *j, const char *key, bool value)
{
	emit_key(j, key);
	emit(j, value ? "true" : "false");
}

const char *json_text(const struct json *j)
{
	return j->overflow ? NULL : j->buf;
}
