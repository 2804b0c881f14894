/*
 * Encoders for the server's own protocol messages. The id is echoed exactly
 * as the client sent it: integer, string, or null.
 */
#include <errno.h>
#include <stdint.h>

#include "json/jsonw.h"
#include "protocol/message.h"

/*
 * Sequence numbers and counters are uint64_t, JSON writers take long long;
 * neither reaches 2^63 in practice, so clamp rather than wrap negative.
 */
static int put_u64(yajl_gen g, uint64_t v)
{
	return jsonw_int(g, v > INT64_MAX ? INT64_MAX : (long long)v);
}

static int put_id(yajl_gen g, const struct command_id *id)
{
	int r = jsonw_cstr(g, "id");

	if (r)
		return r;
	if (id && id->type != COMMAND_ID_NULL)
		return jsonw_verbatim(g, id->text, id->len);
	return jsonw_null(g);
}

static int open_type(yajl_gen g, const char *type)
{
	int r = jsonw_map_open(g);

	if (!r)
		r = jsonw_cstr(g, "type");
	if (!r)
		r = jsonw_cstr(g, type);
	return r;
}

int message_hello(yajl_gen g, const char *version, const char *instance, uint64_t seq)
{
	int r = open_type(g, XGM_TYPE_HELLO);

	if (!r)
		r = jsonw_cstr(g, "protocol");
	if (!r)
		r = jsonw_int(g, XGM_PROTOCOL_VERSION);
	if (!r)
		r = jsonw_cstr(g, "server");
	if (!r)
		r = jsonw_map_open(g);
	if (!r)
		r = jsonw_cstr(g, "name");
	if (!r)
		r = jsonw_cstr(g, XGM_SERVER_NAME);
	if (!r)
		r = jsonw_cstr(g, "version");
	if (!r)
		r = jsonw_cstr(g, version);
	if (!r)
		r = jsonw_map_close(g);
	if (!r)
		r = jsonw_cstr(g, "instance");
	if (!r)
		r = jsonw_cstr(g, instance);
	if (!r)
		r = jsonw_cstr(g, "seq");
	if (!r)
		r = put_u64(g, seq);
	if (!r)
		r = jsonw_map_close(g);
	return r;
}

int message_reply_open(yajl_gen g, const struct command_id *id)
{
	int r = open_type(g, XGM_TYPE_REPLY);

	if (!r)
		r = put_id(g, id);
	if (!r)
		r = jsonw_cstr(g, "ok");
	if (!r)
		r = jsonw_bool(g, true);
	return r;
}

int message_reply(yajl_gen g, const struct command_id *id)
{
	int r = message_reply_open(g, id);

	return r ? r : jsonw_map_close(g);
}

int message_error(yajl_gen g, const struct command_id *id, enum command_error_class cls,
		  const char *desc)
{
	int r = open_type(g, XGM_TYPE_ERROR);

	if (!r)
		r = put_id(g, id);
	if (!r)
		r = jsonw_cstr(g, "error");
	if (!r)
		r = jsonw_map_open(g);
	if (!r)
		r = jsonw_cstr(g, "class");
	if (!r)
		r = jsonw_cstr(g, command_error_class_name(cls));
	if (!r)
		r = jsonw_cstr(g, "desc");
	if (!r)
		r = jsonw_cstr(g, desc);
	if (!r)
		r = jsonw_map_close(g);
	if (!r)
		r = jsonw_map_close(g);
	return r;
}

int message_snapshot_end(yajl_gen g, uint64_t seq)
{
	int r = open_type(g, XGM_TYPE_SNAPSHOT_END);

	if (!r)
		r = jsonw_cstr(g, "seq");
	if (!r)
		r = put_u64(g, seq);
	if (!r)
		r = jsonw_map_close(g);
	return r;
}

int message_lost(yajl_gen g, uint64_t count, uint64_t first_seq, uint64_t last_seq)
{
	int r = open_type(g, XGM_TYPE_LOST);

	if (!r)
		r = jsonw_cstr(g, "count");
	if (!r)
		r = put_u64(g, count);
	if (!r)
		r = jsonw_cstr(g, "first_seq");
	if (!r)
		r = put_u64(g, first_seq);
	if (!r)
		r = jsonw_cstr(g, "last_seq");
	if (!r)
		r = put_u64(g, last_seq);
	if (!r)
		r = jsonw_map_close(g);
	return r;
}

int message_bye(yajl_gen g, const char *reason)
{
	int r = open_type(g, XGM_TYPE_BYE);

	if (!r)
		r = jsonw_cstr(g, "reason");
	if (!r)
		r = jsonw_cstr(g, reason);
	if (!r)
		r = jsonw_map_close(g);
	return r;
}
