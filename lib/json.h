/* SPDX-License-Identifier: GPL-2.0-only */
/* A minimal JSON object writer into a fixed buffer (one record per line). */
#ifndef IRQBENCH_JSON_H
#define IRQBENCH_JSON_H

#include <stdbool.h>
#include <stddef.h>

struct json {
	char *buf;
	size_t size;
	size_t len;
	bool need_comma;
	bool overflow;
};

void json_init(struct json *j, char *buf, size_t size);
void json_begin(struct json *j, const char *key); /* key NULL: top level */
void json_end(struct json *j);
void json_begin_array(struct json *j, const char *key);
void json_end_array(struct json *j);
/* @value NULL: null. */
void json_str(struct json *j, const char *key, const char *value);
void json_int(struct json *j, const char *key, long long value);
void json_num(struct json *j, const char *key, double value);
void json_bool(struct json *j, const char *key, bool value);
/* The text, or NULL if it did not fit. */
const char *json_text(const struct json *j);

#endif
