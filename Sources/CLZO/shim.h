#include <lzo/lzo1x.h>
/* lzo_init() is a macro with arguments, which Swift cannot import. */
static inline int coroner_lzo_init(void) { return lzo_init(); }
