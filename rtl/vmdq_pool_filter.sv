// SPDX-License-Identifier: Apache-2.0
/*
 * VMDq classifier: pool selection (82599 VMDq receive filters)
 *
 * From the parsed L2 fields of one frame, computes the destination pool
 * set in three register stages:
 *   A - exact-match compare against every unicast MAC filter (RAR) and
 *       every per-pool VLAN filter (VLVF); MTA / VFTA bitmap RAM reads;
 *   B - OR-reduce of the pool bitmaps of the matching entries;
 *   C - MAC stage (broadcast / multicast / unicast rules), per-pool VLAN
 *       stage, default pool, pool Rx enable and replication.
 * Drop reasons: 0 none, 1 runt, 2 vlan_filter (global VFTA), 3 no_pool,
 * 4 pool_vlan (a MAC filter admitted pools but their VLAN filters did
 * not), 5 pool_disabled (VFRE).
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module vmdq_pool_filter #
(
    // Number of VMDq pools (64, 32 or 16)
    parameter NUM_POOLS = 32,
    // Number of unicast exact-match MAC filters (1..128)
    parameter NUM_MAC_FILTERS = 128
)
(
    input  wire                                      clk,
    input  wire                                      rst,

    /*
     * Parsed L2 fields
     */
    input  wire                                      in_valid,
    input  wire [47:0]                               in_da,
    input  wire                                      in_tagged,
    input  wire [11:0]                               in_vid,
    input  wire                                      in_runt,

    /*
     * Tables and controls
     */
    input  wire [NUM_MAC_FILTERS-1:0][47:0]          rar_mac,
    input  wire [NUM_MAC_FILTERS-1:0]                rar_valid,
    input  wire [NUM_MAC_FILTERS-1:0][NUM_POOLS-1:0] rar_pools,
    input  wire [63:0][11:0]                         vlvf_vid,
    input  wire [63:0]                               vlvf_valid,
    input  wire [63:0][NUM_POOLS-1:0]                vlvf_pools,
    input  wire [NUM_POOLS-1:0]                      pool_upe,
    input  wire [NUM_POOLS-1:0]                      pool_vpe,
    input  wire [NUM_POOLS-1:0]                      pool_aupe,
    input  wire [NUM_POOLS-1:0]                      pool_rompe,
    input  wire [NUM_POOLS-1:0]                      pool_bam,
    input  wire [NUM_POOLS-1:0]                      pool_mpe,
    input  wire [NUM_POOLS-1:0]                      pool_rx_en,
    input  wire [5:0]                                def_pool,
    input  wire                                      def_pool_dis,
    input  wire                                      repl_en,
    input  wire                                      vlan_filter_en,
    input  wire [1:0]                                mc_offset,
    input  wire                                      mc_filter_en,

    /*
     * Bitmap RAM lookup ports (data one cycle after address)
     */
    output wire [6:0]                                mta_lookup_addr,
    input  wire [31:0]                               mta_lookup_data,
    output wire [6:0]                                vfta_lookup_addr,
    input  wire [31:0]                               vfta_lookup_data,

    /*
     * Result (3 cycles after the input)
     */
    output wire                                      out_valid,
    output wire [NUM_POOLS-1:0]                      out_pools,
    output wire                                      out_drop,
    output wire [2:0]                                out_reason
);

localparam [2:0] REASON_NONE          = 3'd0;
localparam [2:0] REASON_RUNT          = 3'd1;
localparam [2:0] REASON_VLAN_FILTER   = 3'd2;
localparam [2:0] REASON_NO_POOL       = 3'd3;
localparam [2:0] REASON_POOL_VLAN     = 3'd4;
localparam [2:0] REASON_POOL_DISABLED = 3'd5;

// check configuration
if (NUM_POOLS != 64 && NUM_POOLS != 32 && NUM_POOLS != 16) begin : g_check_1
    $fatal(0, "Error: NUM_POOLS must be 64, 32 or 16 (instance %m)");
end
if (NUM_MAC_FILTERS < 1 || NUM_MAC_FILTERS > 128) begin : g_check_2
    $fatal(0, "Error: NUM_MAC_FILTERS must be in 1..128 (instance %m)");
end

/*
 * Stage A: compares and bitmap RAM reads
 */
logic                       a_valid_reg;
logic [NUM_MAC_FILTERS-1:0] a_mac_match_reg;
logic [63:0]                a_vlvf_match_reg;
logic                       a_bcast_reg, a_mcast_reg, a_tagged_reg, a_runt_reg;
logic [4:0]                 a_mta_bit_reg, a_vfta_bit_reg;

// multicast table index: 12 bits of the last two DA bytes, offset per MCSTCTRL.MO
logic [15:0] mc_word;
logic [11:0] mta_index;

always_comb begin
    mc_word = {in_da[7:0], in_da[15:8]};
    case (mc_offset)
        2'd0:    mta_index = mc_word[15:4];
        2'd1:    mta_index = mc_word[14:3];
        2'd2:    mta_index = mc_word[13:2];
        default: mta_index = mc_word[11:0];
    endcase
end

assign mta_lookup_addr = mta_index[11:5];
assign vfta_lookup_addr = in_vid[11:5];

always_ff @(posedge clk) begin
    a_valid_reg <= in_valid;
    for (int i = 0; i < NUM_MAC_FILTERS; i = i + 1) begin
        a_mac_match_reg[i] <= rar_valid[i] && rar_mac[i] == in_da;
    end
    for (int j = 0; j < 64; j = j + 1) begin
        a_vlvf_match_reg[j] <= vlvf_valid[j] && vlvf_vid[j] == in_vid;
    end
    a_bcast_reg <= in_da == {48{1'b1}};
    // I/G bit: least significant bit of the first address byte
    a_mcast_reg <= in_da[40] && in_da != {48{1'b1}};
    a_tagged_reg <= in_tagged;
    a_runt_reg <= in_runt;
    a_mta_bit_reg <= mta_index[4:0];
    a_vfta_bit_reg <= in_vid[4:0];

    if (rst) begin
        a_valid_reg <= 1'b0;
    end
end

/*
 * Stage B: OR-reduce of matching entries
 */
logic                 b_valid_reg;
logic [NUM_POOLS-1:0] b_exact_pools_reg;
logic                 b_exact_hit_reg;
logic [NUM_POOLS-1:0] b_vlvf_pools_reg;
logic                 b_mta_hit_reg, b_vfta_hit_reg;
logic                 b_bcast_reg, b_mcast_reg, b_tagged_reg, b_runt_reg;

logic [NUM_POOLS-1:0] exact_pools, vlvf_pools_sel;

always_comb begin
    exact_pools = '0;
    for (int i = 0; i < NUM_MAC_FILTERS; i = i + 1) begin
        if (a_mac_match_reg[i]) begin
            exact_pools = exact_pools | rar_pools[i];
        end
    end
    vlvf_pools_sel = '0;
    for (int j = 0; j < 64; j = j + 1) begin
        if (a_vlvf_match_reg[j]) begin
            vlvf_pools_sel = vlvf_pools_sel | vlvf_pools[j];
        end
    end
end

always_ff @(posedge clk) begin
    b_valid_reg <= a_valid_reg;
    b_exact_pools_reg <= exact_pools;
    b_exact_hit_reg <= |a_mac_match_reg;
    b_vlvf_pools_reg <= vlvf_pools_sel;
    b_mta_hit_reg <= mc_filter_en && mta_lookup_data[a_mta_bit_reg];
    b_vfta_hit_reg <= vfta_lookup_data[a_vfta_bit_reg];
    b_bcast_reg <= a_bcast_reg;
    b_mcast_reg <= a_mcast_reg;
    b_tagged_reg <= a_tagged_reg;
    b_runt_reg <= a_runt_reg;

    if (rst) begin
        b_valid_reg <= 1'b0;
    end
end

/*
 * Stage C: pool decision
 */
logic                 c_valid_reg;
logic [NUM_POOLS-1:0] c_pools_reg;
logic                 c_drop_reg;
logic [2:0]           c_reason_reg;

logic [NUM_POOLS-1:0] mac_pools, vlan_pools, cand, sel, enabled, lowest, pools;
logic [63:0]          def_onehot;
logic                 drop;
logic [2:0]           reason;

always_comb begin
    // MAC stage
    if (b_bcast_reg) begin
        mac_pools = pool_bam;
    end else if (b_mcast_reg) begin
        // exact match first, otherwise the multicast hash table
        mac_pools = (b_exact_hit_reg ? b_exact_pools_reg : (b_mta_hit_reg ? pool_rompe : '0)) | pool_mpe;
    end else begin
        mac_pools = b_exact_pools_reg | pool_upe;
    end

    // VLAN stage
    vlan_pools = b_tagged_reg ? (b_vlvf_pools_reg | pool_vpe) : pool_aupe;
    cand = mac_pools & vlan_pools;

    // default pool: unicast only, when no pool is left
    def_onehot = 64'd1 << def_pool;
    sel = cand;
    if (cand == '0 && !b_bcast_reg && !b_mcast_reg && !def_pool_dis) begin
        sel = def_onehot[NUM_POOLS-1:0];
    end
    enabled = sel & pool_rx_en;

    // replication disabled: lowest-numbered pool only
    lowest = enabled & (~enabled + 1'b1);
    pools = repl_en ? enabled : lowest;

    drop = 1'b0;
    reason = REASON_NONE;
    if (b_runt_reg) begin
        // runt
        drop = 1'b1;
        reason = REASON_RUNT;
    end else if (b_tagged_reg && vlan_filter_en && !b_vfta_hit_reg) begin
        // global VLAN filter
        drop = 1'b1;
        reason = REASON_VLAN_FILTER;
    end else if (sel == '0) begin
        // no pool admits the frame
        drop = 1'b1;
        reason = mac_pools != '0 ? REASON_POOL_VLAN : REASON_NO_POOL;
    end else if (enabled == '0) begin
        // every admitting pool has its receive disabled
        drop = 1'b1;
        reason = REASON_POOL_DISABLED;
    end
end

always_ff @(posedge clk) begin
    c_valid_reg <= b_valid_reg;
    c_pools_reg <= drop ? '0 : pools;
    c_drop_reg <= drop;
    c_reason_reg <= reason;

    if (rst) begin
        c_valid_reg <= 1'b0;
    end
end

assign out_valid = c_valid_reg;
assign out_pools = c_pools_reg;
assign out_drop = c_drop_reg;
assign out_reason = c_reason_reg;

endmodule

`resetall
