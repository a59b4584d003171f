/* registry.c -- every block the engines can run, in one visible place. */
#include "../npcore.h"

const np_block_fn np_blocks[NP_BLK_COUNT] = {
    [NP_BLK_NONE] = np_blk_idle,
    [NP_BLK_RX] = np_blk_rx,
    [NP_BLK_MUX] = np_blk_mux,
    [NP_BLK_PLC] = np_blk_plc,
    [NP_BLK_QM] = np_blk_qm,
    [NP_BLK_HF] = np_blk_hf,
    [NP_BLK_TX] = np_blk_tx,
    [NP_BLK_STATS] = np_blk_stats,
    [NP_BLK_FREELIST] = np_blk_freelist,
    [NP_BLK_XSCALE] = np_blk_xscale,
    [NP_BLK_IDLE] = np_blk_idle,
    [NP_BLK_SYNTH] = np_blk_synth,
    [NP_BLK_PLUGIN] = np_blk_plugin,
};
