/*
 * The server's own messages (hello, reply, error, snapshot-end, lost, bye),
 * encoded into a jsonw generator as one compact object, without the newline.
 * Pure. Events are not here: the engine encodes those.
 */
#pragma once

#include <stdint.h>
#include <yajl/yajl_gen.h>

#include "protocol/command.h"

/* Each returns 0, or a negative errno from jsonw (then g holds a partial object: discard it). */

/* {"type":"hello","protocol":1,"server":{"name":"xgmd","version":..},"instance":..,"seq":..} */
int message_hello(yajl_gen g, const char *version, const char *instance, uint64_t seq);

/*
 * {"type":"reply","id":..,"ok":true and the map left open, so the caller
 * can add the command's results; close it with jsonw_map_close().
 */
int message_reply_open(yajl_gen g, const struct command_id *id);

/* {"type":"reply","id":..,"ok":true} */
int message_reply(yajl_gen g, const struct command_id *id);

/* {"type":"error","id":..,"error":{"class":..,"desc":..}}; desc may be any bytes. */
int message_error(yajl_gen g, const struct command_id *id, enum command_error_class cls,
		  const char *desc);

/* {"type":"snapshot-end","seq":..} */
int message_snapshot_end(yajl_gen g, uint64_t seq);

/* {"type":"lost","count":..,"first_seq":..,"last_seq":..} */
int message_lost(yajl_gen g, uint64_t count, uint64_t first_seq, uint64_t last_seq);

/* {"type":"bye","reason":..} */
int message_bye(yajl_gen g, const char *reason);
