/*
 * Encoders for the server's own protocol messages. The id is echoed exactly
 * as the client sent it: integer, string, or null.
 */
#include <stdint.h>

#include "json/jsonw.h"
#include "protocol/message.h"

static void put_id(struct jsonw *w, const struct command_id *id)
{
	jsonw_cstr(w, "id");
	if (id && id->type != COMMAND_ID_NULL)
		jsonw_verbatim(w, id->text, id->len);
	else
		jsonw_null(w);
}

static void open_type(struct jsonw *w, const char *type)
{
	jsonw_map_open(w);
	jsonw_cstr(w, "type");
	jsonw_cstr(w, type);
}

void message_hello(struct jsonw *w, const char *version, const char *instance, uint64_t seq)
{
	open_type(w, XGM_TYPE_HELLO);
	jsonw_cstr(w, "protocol");
	jsonw_int(w, XGM_PROTOCOL_VERSION);
	jsonw_cstr(w, "server");
	jsonw_map_open(w);
	jsonw_cstr(w, "name");
	jsonw_cstr(w, XGM_SERVER_NAME);
	jsonw_cstr(w, "version");
	jsonw_cstr(w, version);
	jsonw_map_close(w);
	jsonw_cstr(w, "instance");
	jsonw_cstr(w, instance);
	jsonw_key_uint(w, "seq", seq);
	jsonw_map_close(w);
}

void message_reply_open(struct jsonw *w, const struct command_id *id)
{
	open_type(w, XGM_TYPE_REPLY);
	put_id(w, id);
	jsonw_cstr(w, "ok");
	jsonw_bool(w, true);
}

void message_reply(struct jsonw *w, const struct command_id *id)
{
	message_reply_open(w, id);
	jsonw_map_close(w);
}

void message_error(struct jsonw *w, const struct command_id *id, enum command_error_class cls,
		   const char *desc)
{
	open_type(w, XGM_TYPE_ERROR);
	put_id(w, id);
	jsonw_cstr(w, "error");
	jsonw_map_open(w);
	jsonw_cstr(w, "class");
	jsonw_cstr(w, command_error_class_name(cls));
	jsonw_cstr(w, "desc");
	jsonw_cstr(w, desc);
	jsonw_map_close(w);
	jsonw_map_close(w);
}

void message_event_open(struct jsonw *w, uint64_t seq, enum xgm_event kind)
{
	open_type(w, XGM_TYPE_EVENT);
	jsonw_key_uint(w, "seq", seq);
	jsonw_cstr(w, "event");
	jsonw_cstr(w, xgm_event_name(kind));
}

void message_snapshot_end(struct jsonw *w, uint64_t seq)
{
	open_type(w, XGM_TYPE_SNAPSHOT_END);
	jsonw_key_uint(w, "seq", seq);
	jsonw_map_close(w);
}

void message_lost(struct jsonw *w, uint64_t count, uint64_t first_seq, uint64_t last_seq)
{
	open_type(w, XGM_TYPE_LOST);
	jsonw_key_uint(w, "count", count);
	jsonw_key_uint(w, "first_seq", first_seq);
	jsonw_key_uint(w, "last_seq", last_seq);
	jsonw_map_close(w);
}

void message_bye(struct jsonw *w, const char *reason)
{
	open_type(w, XGM_TYPE_BYE);
	jsonw_cstr(w, "reason");
	jsonw_cstr(w, reason);
	jsonw_map_close(w);
}
