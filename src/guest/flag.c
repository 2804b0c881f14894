/* The guest tool's decision (flag.h). */
#include <string.h>

#include "guest/flag.h"

enum flag_action flag_decide(bool file_present, const char *value, size_t len)
{
	bool set = value && len == 1 && value[0] == '1';

	if (file_present)
		return set ? FLAG_NOTHING : FLAG_WRITE;
	return value ? FLAG_REMOVE : FLAG_NOTHING;
}
