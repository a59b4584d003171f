// SPDX-License-Identifier: Apache-2.0
/*
 * SmartNIC VMDq receive classifier (Intel 82599 VMDq receive filters)
 *
 * AXI-Stream frames in, the same frames out with the classification result
 * on m_axis_tuser (constant over every beat of the frame):
 *
 *   tuser[2:0]                  drop reason (0 none, 1 runt, 2 vlan_filter,
 *                               3 no_pool, 4 pool_vlan, 5 pool_disabled)
 *   tuser[3]                    drop
 *   tuser[7:4]                  RSS hash type (82599 descriptor encoding)
 *   tuser[39:8]                 RSS (Toeplitz) hash
 *   tuser[42:40]                queue index within the pool
 *   tuser[43 +: NUM_POOLS]      destination pool bitmap (replication)
 *
 * The first HDR_BEATS beats of each frame (at least 86 bytes) are captured
 * while the frame streams into a FIFO; the header is classified by a fixed
 * 5-stage pipeline (parser 2, pool filter / Toeplitz 3 in parallel with the
 * parser's second stage, RETA lookup 1) and its result is queued.  A frame
 * leaves as soon as its result is known, so long frames cut through.  The
 * pipeline accepts one header per cycle: back-to-back minimum-size frames
 * stream at one beat per cycle with s_axis_tready held high.
 *
 * Frames must be packed: tkeep all ones on every beat but the last, whose
 * valid bytes are contiguous from lane 0.  Dropped frames are forwarded
 * with drop = 1 and pools = 0; the consumer discards them.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module vmdq_classifier #
(
    // Width of the AXI-Stream data path in bits (64, 128, 256 or 512)
    parameter DATA_WIDTH = 64,
    // Width of tkeep (one bit per byte)
    parameter KEEP_WIDTH = DATA_WIDTH/8,
    // Number of VMDq pools: 64 (64x2), 32 (32x4) or 16 (16x8)
    parameter NUM_POOLS = 32,
    // Queues per pool; the pools share 128 queues
    parameter QUEUES_PER_POOL = 128/NUM_POOLS,
    // Number of unicast exact-match MAC filters (RAR entries, 1..128)
    parameter NUM_MAC_FILTERS = 128,
    // Depth of the frame FIFO in beats (power of two)
    parameter FIFO_DEPTH = 32,
    // Width of m_axis_tuser (fixed layout, see above)
    parameter USER_WIDTH = 43 + NUM_POOLS,
    // AXI-Lite address width (at least 16)
    parameter AXIL_ADDR_WIDTH = 16,
    // AXI-Lite data width (must be 32)
    parameter AXIL_DATA_WIDTH = 32
)
(
    input  wire                          clk,
    input  wire                          rst,

    /*
     * AXI-Stream input (frames from the MAC, FCS stripped)
     */
    input  wire [DATA_WIDTH-1:0]         s_axis_tdata,
    input  wire [KEEP_WIDTH-1:0]         s_axis_tkeep,
    input  wire                          s_axis_tvalid,
    output wire                          s_axis_tready,
    input  wire                          s_axis_tlast,

    /*
     * AXI-Stream output (same frames, classification on tuser)
     */
    output wire [DATA_WIDTH-1:0]         m_axis_tdata,
    output wire [KEEP_WIDTH-1:0]         m_axis_tkeep,
    output wire                          m_axis_tvalid,
    input  wire                          m_axis_tready,
    output wire                          m_axis_tlast,
    output wire [USER_WIDTH-1:0]         m_axis_tuser,

    /*
     * AXI-Lite register interface
     */
    input  wire [AXIL_ADDR_WIDTH-1:0]    s_axil_awaddr,
    input  wire [2:0]                    s_axil_awprot,
    input  wire                          s_axil_awvalid,
    output wire                          s_axil_awready,
    input  wire [AXIL_DATA_WIDTH-1:0]    s_axil_wdata,
    input  wire [AXIL_DATA_WIDTH/8-1:0]  s_axil_wstrb,
    input  wire                          s_axil_wvalid,
    output wire                          s_axil_wready,
    output wire [1:0]                    s_axil_bresp,
    output wire                          s_axil_bvalid,
    input  wire                          s_axil_bready,
    input  wire [AXIL_ADDR_WIDTH-1:0]    s_axil_araddr,
    input  wire [2:0]                    s_axil_arprot,
    input  wire                          s_axil_arvalid,
    output wire                          s_axil_arready,
    output wire [AXIL_DATA_WIDTH-1:0]    s_axil_rdata,
    output wire [1:0]                    s_axil_rresp,
    output wire                          s_axil_rvalid,
    input  wire                          s_axil_rready,

    /*
     * Status
     */
    output wire                          status_busy
);

localparam BYTES = DATA_WIDTH/8;
// header bytes needed: 14 (Ethernet) + 4 (outer tag) + 4 (802.1Q) + 60 (IPv4 max) + 4 (ports)
localparam HDR_NEED = 86;
localparam HDR_BEATS = (HDR_NEED + BYTES - 1) / BYTES;
localparam HDR_BYTES = HDR_BEATS * BYTES;
localparam BEAT_W = $clog2(HDR_BEATS + 1);
localparam RES_WIDTH = USER_WIDTH;
localparam DATA_FIFO_W = DATA_WIDTH + KEEP_WIDTH + 1;
// cycles from the accepted last header beat to the result entering its FIFO
localparam PIPE_LATENCY = 6;

// check configuration
if (DATA_WIDTH != 64 && DATA_WIDTH != 128 && DATA_WIDTH != 256 && DATA_WIDTH != 512) begin : g_check_1
    $fatal(0, "Error: DATA_WIDTH must be 64, 128, 256 or 512 (instance %m)");
end
if (KEEP_WIDTH * 8 != DATA_WIDTH) begin : g_check_2
    $fatal(0, "Error: KEEP_WIDTH must be DATA_WIDTH/8 (instance %m)");
end
if (NUM_POOLS != 64 && NUM_POOLS != 32 && NUM_POOLS != 16) begin : g_check_3
    $fatal(0, "Error: NUM_POOLS must be 64, 32 or 16 (82599 64x2, 32x4, 16x8) (instance %m)");
end
if (NUM_POOLS * QUEUES_PER_POOL != 128) begin : g_check_4
    $fatal(0, "Error: NUM_POOLS * QUEUES_PER_POOL must be 128 (instance %m)");
end
if (NUM_MAC_FILTERS < 1 || NUM_MAC_FILTERS > 128) begin : g_check_5
    $fatal(0, "Error: NUM_MAC_FILTERS must be in 1..128 (instance %m)");
end
if (USER_WIDTH != 43 + NUM_POOLS) begin : g_check_6
    $fatal(0, "Error: USER_WIDTH must be 43 + NUM_POOLS (instance %m)");
end
if (FIFO_DEPTH < HDR_BEATS + PIPE_LATENCY + 4 || (1 << $clog2(FIFO_DEPTH)) != FIFO_DEPTH) begin : g_check_7
    $fatal(0, "Error: FIFO_DEPTH must be a power of two >= header beats + pipeline latency + 4 (instance %m)");
end

/*
 * Register file and tables
 */
wire [NUM_MAC_FILTERS-1:0][47:0]          rar_mac;
wire [NUM_MAC_FILTERS-1:0]                rar_valid;
wire [NUM_MAC_FILTERS-1:0][NUM_POOLS-1:0] rar_pools;
wire [63:0][11:0]                         vlvf_vid;
wire [63:0]                               vlvf_valid;
wire [63:0][NUM_POOLS-1:0]                vlvf_pools;
wire [NUM_POOLS-1:0]                      pool_upe, pool_vpe, pool_aupe, pool_rompe, pool_bam, pool_mpe;
wire [NUM_POOLS-1:0]                      pool_rx_en;
wire [5:0]                                def_pool;
wire                                      def_pool_dis, repl_en, vlan_filter_en, mc_filter_en;
wire [15:0]                               vlan_ethertype, outer_ethertype;
wire [1:0]                                mc_offset;
wire [5:0]                                rss_field_en;
wire [319:0]                              rss_key;
wire [1023:0]                             reta;
wire [6:0]                                runt_len;
wire [6:0]                                mta_lookup_addr, vfta_lookup_addr;
wire [31:0]                               mta_lookup_data, vfta_lookup_data;
wire                                      busy;

vmdq_csr #(
    .NUM_POOLS(NUM_POOLS),
    .NUM_MAC_FILTERS(NUM_MAC_FILTERS),
    .DATA_WIDTH(DATA_WIDTH),
    .AXIL_ADDR_WIDTH(AXIL_ADDR_WIDTH),
    .AXIL_DATA_WIDTH(AXIL_DATA_WIDTH)
)
csr_inst (
    .clk(clk),
    .rst(rst),
    .s_axil_awaddr(s_axil_awaddr),
    .s_axil_awprot(s_axil_awprot),
    .s_axil_awvalid(s_axil_awvalid),
    .s_axil_awready(s_axil_awready),
    .s_axil_wdata(s_axil_wdata),
    .s_axil_wstrb(s_axil_wstrb),
    .s_axil_wvalid(s_axil_wvalid),
    .s_axil_wready(s_axil_wready),
    .s_axil_bresp(s_axil_bresp),
    .s_axil_bvalid(s_axil_bvalid),
    .s_axil_bready(s_axil_bready),
    .s_axil_araddr(s_axil_araddr),
    .s_axil_arprot(s_axil_arprot),
    .s_axil_arvalid(s_axil_arvalid),
    .s_axil_arready(s_axil_arready),
    .s_axil_rdata(s_axil_rdata),
    .s_axil_rresp(s_axil_rresp),
    .s_axil_rvalid(s_axil_rvalid),
    .s_axil_rready(s_axil_rready),
    .rar_mac(rar_mac),
    .rar_valid(rar_valid),
    .rar_pools(rar_pools),
    .vlvf_vid(vlvf_vid),
    .vlvf_valid(vlvf_valid),
    .vlvf_pools(vlvf_pools),
    .pool_upe(pool_upe),
    .pool_vpe(pool_vpe),
    .pool_aupe(pool_aupe),
    .pool_rompe(pool_rompe),
    .pool_bam(pool_bam),
    .pool_mpe(pool_mpe),
    .pool_rx_en(pool_rx_en),
    .def_pool(def_pool),
    .def_pool_dis(def_pool_dis),
    .repl_en(repl_en),
    .vlan_ethertype(vlan_ethertype),
    .outer_ethertype(outer_ethertype),
    .vlan_filter_en(vlan_filter_en),
    .mc_offset(mc_offset),
    .mc_filter_en(mc_filter_en),
    .rss_field_en(rss_field_en),
    .rss_key(rss_key),
    .reta(reta),
    .runt_len(runt_len),
    .mta_lookup_addr(mta_lookup_addr),
    .mta_lookup_data(mta_lookup_data),
    .vfta_lookup_addr(vfta_lookup_addr),
    .vfta_lookup_data(vfta_lookup_data),
    .busy(busy)
);

/*
 * Frame FIFO
 */
wire                   data_full, data_empty;
wire [DATA_FIFO_W-1:0] data_head;
wire                   s_fire = s_axis_tvalid && s_axis_tready;

assign s_axis_tready = !data_full && !busy;

/*
 * Header capture
 */
logic [BEAT_W-1:0]      beat_reg;
logic                   hdr_sent_reg;
logic [HDR_BYTES*8-1:0] hdr_buf_reg;

logic [HDR_BYTES*8-1:0] hdr_cur;
logic                   hdr_done;
logic [7:0]             hdr_len;
logic [15:0]            beat_bytes;

always_comb begin
    // the captured bytes with the current beat merged in
    hdr_cur = hdr_buf_reg;
    for (int b = 0; b < HDR_BEATS; b = b + 1) begin
        if (beat_reg == BEAT_W'(b)) begin
            hdr_cur[b*DATA_WIDTH +: DATA_WIDTH] = s_axis_tdata;
        end
    end

    // dispatch on the last header beat, or at the end of a shorter frame
    hdr_done = s_fire && !hdr_sent_reg && (s_axis_tlast || beat_reg == BEAT_W'(HDR_BEATS - 1));

    // frame length, saturated at 255 when the frame goes on past the header
    beat_bytes = 16'($countones(s_axis_tkeep));
    if (s_axis_tlast) begin
        hdr_len = 8'(16'(beat_reg) * 16'(BYTES) + beat_bytes);
    end else begin
        hdr_len = 8'd255;
    end
end

always_ff @(posedge clk) begin
    if (s_fire) begin
        if (beat_reg < BEAT_W'(HDR_BEATS)) begin
            hdr_buf_reg <= hdr_cur;
            beat_reg <= beat_reg + 1'b1;
        end
        if (hdr_done) begin
            hdr_sent_reg <= 1'b1;
        end
        if (s_axis_tlast) begin
            beat_reg <= '0;
            hdr_sent_reg <= 1'b0;
        end
    end

    if (rst) begin
        beat_reg <= '0;
        hdr_sent_reg <= 1'b0;
    end
end

/*
 * Classification pipeline
 */
wire         l2_valid, l2_tagged, l2_runt;
wire [47:0]  l2_da;
wire [11:0]  l2_vid;
wire         l3_valid;
wire [3:0]   l3_hash_type;
wire [287:0] l3_hash_data;

vmdq_parser #(
    .HDR_BYTES(HDR_BYTES)
)
parser_inst (
    .clk(clk),
    .rst(rst),
    .hdr_data(hdr_cur),
    .hdr_len(hdr_len),
    .hdr_valid(hdr_done),
    .vlan_ethertype(vlan_ethertype),
    .outer_ethertype(outer_ethertype),
    .runt_len(runt_len),
    .rss_field_en(rss_field_en),
    .l2_valid(l2_valid),
    .l2_da(l2_da),
    .l2_tagged(l2_tagged),
    .l2_vid(l2_vid),
    .l2_runt(l2_runt),
    .l3_valid(l3_valid),
    .l3_hash_type(l3_hash_type),
    .l3_hash_data(l3_hash_data)
);

wire                 pf_valid, pf_drop;
wire [NUM_POOLS-1:0] pf_pools;
wire [2:0]           pf_reason;

vmdq_pool_filter #(
    .NUM_POOLS(NUM_POOLS),
    .NUM_MAC_FILTERS(NUM_MAC_FILTERS)
)
pool_filter_inst (
    .clk(clk),
    .rst(rst),
    .in_valid(l2_valid),
    .in_da(l2_da),
    .in_tagged(l2_tagged),
    .in_vid(l2_vid),
    .in_runt(l2_runt),
    .rar_mac(rar_mac),
    .rar_valid(rar_valid),
    .rar_pools(rar_pools),
    .vlvf_vid(vlvf_vid),
    .vlvf_valid(vlvf_valid),
    .vlvf_pools(vlvf_pools),
    .pool_upe(pool_upe),
    .pool_vpe(pool_vpe),
    .pool_aupe(pool_aupe),
    .pool_rompe(pool_rompe),
    .pool_bam(pool_bam),
    .pool_mpe(pool_mpe),
    .pool_rx_en(pool_rx_en),
    .def_pool(def_pool),
    .def_pool_dis(def_pool_dis),
    .repl_en(repl_en),
    .vlan_filter_en(vlan_filter_en),
    .mc_offset(mc_offset),
    .mc_filter_en(mc_filter_en),
    .mta_lookup_addr(mta_lookup_addr),
    .mta_lookup_data(mta_lookup_data),
    .vfta_lookup_addr(vfta_lookup_addr),
    .vfta_lookup_data(vfta_lookup_data),
    .out_valid(pf_valid),
    .out_pools(pf_pools),
    .out_drop(pf_drop),
    .out_reason(pf_reason)
);

// the hash type travels alongside the Toeplitz pipeline
logic [3:0] ht_d1_reg, ht_d2_reg;

always_ff @(posedge clk) begin
    ht_d1_reg <= l3_hash_type;
    ht_d2_reg <= ht_d1_reg;
end

wire [31:0] tp_hash;
wire        tp_valid;

vmdq_toeplitz #(
    .DATA_BYTES(36)
)
toeplitz_inst (
    .clk(clk),
    .rst(rst),
    .key(rss_key),
    .in_data(l3_hash_data),
    .in_valid(l3_valid),
    .out_hash(tp_hash),
    .out_valid(tp_valid)
);

// RETA lookup and result assembly (pool filter and Toeplitz outputs are aligned)
logic [7:0]            reta_entry;
logic [2:0]            queue;
logic                  hashed;
logic [RES_WIDTH-1:0]  result;

always_comb begin
    reta_entry = reta[8*tp_hash[6:0] +: 8];
    hashed = ht_d2_reg != 4'd0 && !pf_drop;
    queue = hashed ? (reta_entry[2:0] & 3'(QUEUES_PER_POOL - 1)) : 3'd0;
    result = {pf_pools, queue, hashed ? tp_hash : 32'd0, hashed ? ht_d2_reg : 4'd0, pf_drop, pf_reason};
end

/*
 * Result FIFO and output
 */
wire                 res_full, res_empty;
wire [RES_WIDTH-1:0] res_head;
wire                 m_fire = m_axis_tvalid && m_axis_tready;

vmdq_fifo #(
    .WIDTH(RES_WIDTH),
    .DEPTH(FIFO_DEPTH)
)
res_fifo_inst (
    .clk(clk),
    .rst(rst),
    .wr_data(result),
    .wr_en(pf_valid),
    .full(res_full),
    .rd_data(res_head),
    .rd_en(m_fire && m_axis_tlast),
    .empty(res_empty)
);

vmdq_fifo #(
    .WIDTH(DATA_FIFO_W),
    .DEPTH(FIFO_DEPTH)
)
data_fifo_inst (
    .clk(clk),
    .rst(rst),
    .wr_data({s_axis_tlast, s_axis_tkeep, s_axis_tdata}),
    .wr_en(s_fire),
    .full(data_full),
    .rd_data(data_head),
    .rd_en(m_fire),
    .empty(data_empty)
);

assign m_axis_tdata  = data_head[DATA_WIDTH-1:0];
assign m_axis_tkeep  = data_head[DATA_WIDTH +: KEEP_WIDTH];
assign m_axis_tlast  = data_head[DATA_WIDTH + KEEP_WIDTH];
assign m_axis_tvalid = !data_empty && !res_empty;
assign m_axis_tuser  = res_head;

assign status_busy = busy;

// by construction the result FIFO cannot overflow (one result per frame in
// the frame FIFO) and the Toeplitz valid is aligned with the pool filter's
/* verilator lint_off UNUSEDSIGNAL */
wire unused = &{1'b0, res_full, tp_valid, reta_entry[7:3]};
/* verilator lint_on UNUSEDSIGNAL */

endmodule

`resetall
