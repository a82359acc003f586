"""ykt-recon: one-card subsidy reconciliation."""

import os

# polars' allocator (jemalloc) hands freed pages back to the kernel after half a second (polars'
# own default, chosen for interactive sessions). A nightly load frees and re-allocates part-sized
# buffers many times a second, so every part would pay again for fresh zeroed pages; keeping freed
# pages for a few seconds lets the next part reuse them (bench/README.md has the measurement). It only
# takes effect when set before polars is first imported (ykt's entry points import ykt first); a
# setting the user made wins.
ALLOCATOR_SETTING = "dirty_decay_ms:5000,muzzy_decay_ms:5000"
os.environ.setdefault("_RJEM_MALLOC_CONF", ALLOCATOR_SETTING)
