// SPDX-License-Identifier: Apache-2.0
/*
 * VMDq classifier: AXI-Lite register file and filter tables
 *
 * Holds every table and key of the classifier behind a 32-bit AXI-Lite
 * slave, at 82599-compatible offsets (see rtl/README.md for the full map).
 * The tables are exported to the datapath as packed vectors; the two
 * 4096-bit bitmaps (MTA and VFTA) are RAMs with one synchronous lookup port
 * each.  After reset an init walker clears every table entry (128 cycles,
 * busy = 1) so that reads return the documented reset values; the
 * register interface and the datapath wait for it.
 *
 * Writes take effect only with all four byte strobes set; a partial write
 * is ignored and answered with SLVERR.  Writes to read-only or unmapped
 * words are ignored (OKAY); reads of unmapped words return 0.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module vmdq_csr #
(
    // Number of VMDq pools (64, 32 or 16: the 82599 64x2, 32x4, 16x8 modes)
    parameter NUM_POOLS = 32,
    // Number of unicast exact-match MAC filters (RAR entries, 1..128)
    parameter NUM_MAC_FILTERS = 128,
    // Stream data width, reported in CLS_CFG only
    parameter DATA_WIDTH = 64,
    // AXI-Lite address width (at least 16)
    parameter AXIL_ADDR_WIDTH = 16,
    // AXI-Lite data width (must be 32)
    parameter AXIL_DATA_WIDTH = 32
)
(
    input  wire                              clk,
    input  wire                              rst,

    /*
     * AXI-Lite slave
     */
    input  wire [AXIL_ADDR_WIDTH-1:0]        s_axil_awaddr,
    input  wire [2:0]                        s_axil_awprot,
    input  wire                              s_axil_awvalid,
    output wire                              s_axil_awready,
    input  wire [AXIL_DATA_WIDTH-1:0]        s_axil_wdata,
    input  wire [AXIL_DATA_WIDTH/8-1:0]      s_axil_wstrb,
    input  wire                              s_axil_wvalid,
    output wire                              s_axil_wready,
    output wire [1:0]                        s_axil_bresp,
    output wire                              s_axil_bvalid,
    input  wire                              s_axil_bready,
    input  wire [AXIL_ADDR_WIDTH-1:0]        s_axil_araddr,
    input  wire [2:0]                        s_axil_arprot,
    input  wire                              s_axil_arvalid,
    output wire                              s_axil_arready,
    output wire [AXIL_DATA_WIDTH-1:0]        s_axil_rdata,
    output wire [1:0]                        s_axil_rresp,
    output wire                              s_axil_rvalid,
    input  wire                              s_axil_rready,

    /*
     * Tables and controls towards the datapath
     */
    output wire [NUM_MAC_FILTERS-1:0][47:0]          rar_mac,
    output wire [NUM_MAC_FILTERS-1:0]                rar_valid,
    output wire [NUM_MAC_FILTERS-1:0][NUM_POOLS-1:0] rar_pools,
    output wire [63:0][11:0]                         vlvf_vid,
    output wire [63:0]                               vlvf_valid,
    output wire [63:0][NUM_POOLS-1:0]                vlvf_pools,
    output wire [NUM_POOLS-1:0]                      pool_upe,
    output wire [NUM_POOLS-1:0]                      pool_vpe,
    output wire [NUM_POOLS-1:0]                      pool_aupe,
    output wire [NUM_POOLS-1:0]                      pool_rompe,
    output wire [NUM_POOLS-1:0]                      pool_bam,
    output wire [NUM_POOLS-1:0]                      pool_mpe,
    output wire [NUM_POOLS-1:0]                      pool_rx_en,
    output wire [5:0]                                def_pool,
    output wire                                      def_pool_dis,
    output wire                                      repl_en,
    output wire [15:0]                               vlan_ethertype,
    output wire [15:0]                               outer_ethertype,
    output wire                                      vlan_filter_en,
    output wire [1:0]                                mc_offset,
    output wire                                      mc_filter_en,
    // RSS field enables: {ipv6_udp, ipv4_udp, ipv6_tcp, ipv6, ipv4, ipv4_tcp}
    output wire [5:0]                                rss_field_en,
    // RSS key, key byte 0 in bits [319:312]
    output wire [319:0]                              rss_key,
    // RSS redirection table, entry i in bits [8*i +: 8]
    output wire [1023:0]                             reta,
    output wire [6:0]                                runt_len,

    /*
     * Synchronous lookup ports of the bitmap RAMs (data one cycle after address)
     */
    input  wire [6:0]                                mta_lookup_addr,
    output wire [31:0]                               mta_lookup_data,
    input  wire [6:0]                                vfta_lookup_addr,
    output wire [31:0]                               vfta_lookup_data,

    /*
     * Status
     */
    output wire                                      busy
);

// register offsets (byte addresses), see rtl/README.md
localparam [15:0] EXVET_ADDR    = 16'h5078;
localparam [15:0] VLNCTRL_ADDR  = 16'h5088;
localparam [15:0] MCSTCTRL_ADDR = 16'h5090;
localparam [15:0] VT_CTL_ADDR   = 16'h51B0;
localparam [15:0] VFRE_ADDR     = 16'h51E0;
localparam [15:0] MTA_ADDR      = 16'h5200;
localparam [15:0] MRQC_ADDR     = 16'h5818;
localparam [15:0] RETA_ADDR     = 16'h5C00;
localparam [15:0] RSSRK_ADDR    = 16'h5C80;
localparam [15:0] VFTA_ADDR     = 16'hA000;
localparam [15:0] RAR_ADDR      = 16'hA200;
localparam [15:0] MPSAR_ADDR    = 16'hA600;
localparam [15:0] VMOLR_ADDR    = 16'hF000;
localparam [15:0] VLVF_ADDR     = 16'hF100;
localparam [15:0] VLVFB_ADDR    = 16'hF200;
localparam [15:0] CLS_ID_ADDR   = 16'hF800;
localparam [15:0] CLS_CFG_ADDR  = 16'hF804;
localparam [15:0] RUNT_LEN_ADDR = 16'hF808;

localparam [31:0] CLS_ID = 32'h564D_0100;
localparam [31:0] CLS_CFG = {16'(DATA_WIDTH), 8'(NUM_MAC_FILTERS), 8'(NUM_POOLS)};
// MRQC.MRQE (read-only): 0xB = 64 pools x 2, 0xA = 32 x 4, 0xC = 16 x 8
localparam [3:0] MRQE = NUM_POOLS == 64 ? 4'hB : (NUM_POOLS == 32 ? 4'hA : 4'hC);
localparam [63:0] POOL_MASK = NUM_POOLS == 64 ? {64{1'b1}} : ((64'd1 << NUM_POOLS) - 64'd1);

// check configuration
if (NUM_POOLS != 64 && NUM_POOLS != 32 && NUM_POOLS != 16) begin : g_check_1
    $fatal(0, "Error: NUM_POOLS must be 64, 32 or 16 (instance %m)");
end
if (NUM_MAC_FILTERS < 1 || NUM_MAC_FILTERS > 128) begin : g_check_2
    $fatal(0, "Error: NUM_MAC_FILTERS must be in 1..128 (instance %m)");
end
if (AXIL_DATA_WIDTH != 32) begin : g_check_3
    $fatal(0, "Error: AXIL_DATA_WIDTH must be 32 (instance %m)");
end
if (AXIL_ADDR_WIDTH < 16) begin : g_check_4
    $fatal(0, "Error: AXIL_ADDR_WIDTH must be at least 16 (instance %m)");
end

/*
 * Storage
 */
// RAR storage is sized for the full 128-entry window; entries at and above
// NUM_MAC_FILTERS are never written and are trimmed by synthesis
logic [47:0] rar_mac_reg[128];
logic        rar_av_reg[128];
logic [63:0] mpsar_reg[128];
logic [11:0] vlvf_vid_reg[64];
logic        vlvf_en_reg[64];
logic [63:0] vlvfb_reg[64];
logic [31:0] reta_reg[32];
logic [31:0] rssrk_reg[10];

(* ram_style = "distributed" *)
logic [31:0] mta_mem[128];
(* ram_style = "distributed" *)
logic [31:0] vfta_mem[128];

logic [63:0] upe_reg, vpe_reg, aupe_reg, rompe_reg, bam_reg, mpe_reg;
logic [63:0] vfre_reg;
logic [5:0]  def_pool_reg;
logic        def_pool_dis_reg;
logic        repl_en_reg;
logic [15:0] vet_reg;
logic        vfe_reg;
logic [15:0] exvet_reg;
logic [1:0]  mc_offset_reg;
logic        mc_filter_en_reg;
logic [5:0]  rss_field_en_reg;
logic [6:0]  runt_len_reg;

logic [7:0]  init_idx_reg;
logic        busy_reg;

logic [31:0] mta_lookup_data_reg, vfta_lookup_data_reg;

/*
 * AXI-Lite handshake
 */
logic        bvalid_reg;
logic [1:0]  bresp_reg;
logic        rd_pending_reg;
logic [15:0] rd_addr_reg;
logic        rvalid_reg;
logic [31:0] rdata_reg;
logic [31:0] mta_rd_data_reg, vfta_rd_data_reg;

wire wr_fire = s_axil_awvalid && s_axil_wvalid && !bvalid_reg && !busy_reg;
wire rd_fire = s_axil_arvalid && !rd_pending_reg && !rvalid_reg && !busy_reg;

assign s_axil_awready = wr_fire;
assign s_axil_wready  = wr_fire;
assign s_axil_bresp   = bresp_reg;
assign s_axil_bvalid  = bvalid_reg;
assign s_axil_arready = rd_fire;
assign s_axil_rdata   = rdata_reg;
assign s_axil_rresp   = 2'b00;
assign s_axil_rvalid  = rvalid_reg;

wire [15:0] waddr = {s_axil_awaddr[15:2], 2'b00};
wire [31:0] wdata = s_axil_wdata;
wire        wfull = &s_axil_wstrb;
wire [15:0] raddr_in = {s_axil_araddr[15:2], 2'b00};

// table index helpers (valid only within their address ranges)
wire [15:0] w_rar_off   = waddr - RAR_ADDR;
wire [15:0] w_mpsar_off = waddr - MPSAR_ADDR;
wire [6:0]  w_rar_idx   = w_rar_off[9:3];
wire [6:0]  w_mpsar_idx = w_mpsar_off[9:3];
wire        w_is_rar    = waddr >= RAR_ADDR && waddr < RAR_ADDR + 16'h400;
wire        w_is_mpsar  = waddr >= MPSAR_ADDR && waddr < MPSAR_ADDR + 16'h400;

wire [15:0] r_rar_off   = rd_addr_reg - RAR_ADDR;
wire [15:0] r_mpsar_off = rd_addr_reg - MPSAR_ADDR;
wire [6:0]  r_rar_idx   = r_rar_off[9:3];
wire [6:0]  r_mpsar_idx = r_mpsar_off[9:3];
wire        r_is_rar    = rd_addr_reg >= RAR_ADDR && rd_addr_reg < RAR_ADDR + 16'h400;
wire        r_is_mpsar  = rd_addr_reg >= MPSAR_ADDR && rd_addr_reg < MPSAR_ADDR + 16'h400;

// upper address bits beyond the 16-bit map must be zero to decode
wire w_in_map;
wire r_in_map;
logic r_in_map_reg;

if (AXIL_ADDR_WIDTH > 16) begin : g_addr_hi
    assign w_in_map = s_axil_awaddr[AXIL_ADDR_WIDTH-1:16] == '0;
    assign r_in_map = s_axil_araddr[AXIL_ADDR_WIDTH-1:16] == '0;
end else begin : g_addr_16
    assign w_in_map = 1'b1;
    assign r_in_map = 1'b1;
end

/*
 * Read data mux (from the registered read address)
 */
logic [31:0] rd_mux;

always_comb begin
    rd_mux = 32'd0;
    if (!r_in_map_reg) begin
        rd_mux = 32'd0;
    end else if (rd_addr_reg[15:9] == MTA_ADDR[15:9]) begin
        rd_mux = mta_rd_data_reg;
    end else if (rd_addr_reg[15:9] == VFTA_ADDR[15:9]) begin
        rd_mux = vfta_rd_data_reg;
    end else if (rd_addr_reg[15:7] == RETA_ADDR[15:7]) begin
        rd_mux = reta_reg[rd_addr_reg[6:2]];
    end else if (rd_addr_reg[15:6] == RSSRK_ADDR[15:6]) begin
        if (rd_addr_reg[5:2] < 4'd10) begin
            rd_mux = rssrk_reg[rd_addr_reg[5:2]];
        end
    end else if (r_is_rar) begin
        if (32'(r_rar_idx) < NUM_MAC_FILTERS) begin
            if (!r_rar_off[2]) begin
                // RAL: address bytes 0..3, byte 0 in bits [7:0]
                rd_mux = {rar_mac_reg[r_rar_idx][23:16], rar_mac_reg[r_rar_idx][31:24],
                          rar_mac_reg[r_rar_idx][39:32], rar_mac_reg[r_rar_idx][47:40]};
            end else begin
                // RAH: address bytes 4..5, AV in bit 31
                rd_mux = {rar_av_reg[r_rar_idx], 15'd0,
                          rar_mac_reg[r_rar_idx][7:0], rar_mac_reg[r_rar_idx][15:8]};
            end
        end
    end else if (r_is_mpsar) begin
        if (32'(r_mpsar_idx) < NUM_MAC_FILTERS) begin
            rd_mux = r_mpsar_off[2] ? mpsar_reg[r_mpsar_idx][63:32] : mpsar_reg[r_mpsar_idx][31:0];
        end
    end else if (rd_addr_reg[15:8] == VMOLR_ADDR[15:8]) begin
        rd_mux[22] = upe_reg[rd_addr_reg[7:2]];
        rd_mux[23] = vpe_reg[rd_addr_reg[7:2]];
        rd_mux[24] = aupe_reg[rd_addr_reg[7:2]];
        rd_mux[25] = rompe_reg[rd_addr_reg[7:2]];
        rd_mux[27] = bam_reg[rd_addr_reg[7:2]];
        rd_mux[28] = mpe_reg[rd_addr_reg[7:2]];
    end else if (rd_addr_reg[15:8] == VLVF_ADDR[15:8]) begin
        rd_mux = {vlvf_en_reg[rd_addr_reg[7:2]], 19'd0, vlvf_vid_reg[rd_addr_reg[7:2]]};
    end else if (rd_addr_reg[15:9] == VLVFB_ADDR[15:9]) begin
        rd_mux = rd_addr_reg[2] ? vlvfb_reg[rd_addr_reg[8:3]][63:32] : vlvfb_reg[rd_addr_reg[8:3]][31:0];
    end else begin
        case (rd_addr_reg)
            EXVET_ADDR:         rd_mux = {exvet_reg, 16'd0};
            VLNCTRL_ADDR:       rd_mux = {1'b0, vfe_reg, 14'd0, vet_reg};
            MCSTCTRL_ADDR:      rd_mux = {29'd0, mc_filter_en_reg, mc_offset_reg};
            VT_CTL_ADDR:        rd_mux = {1'b0, repl_en_reg, def_pool_dis_reg, 16'd0, def_pool_reg, 6'd0, 1'b1};
            VFRE_ADDR:          rd_mux = vfre_reg[31:0];
            VFRE_ADDR + 16'd4:  rd_mux = vfre_reg[63:32];
            MRQC_ADDR:          rd_mux = {8'd0, rss_field_en_reg[5:2], 2'b00, rss_field_en_reg[1:0], 12'd0, MRQE};
            CLS_ID_ADDR:        rd_mux = CLS_ID;
            CLS_CFG_ADDR:       rd_mux = CLS_CFG;
            RUNT_LEN_ADDR:      rd_mux = {25'd0, runt_len_reg};
            default:            rd_mux = 32'd0;
        endcase
    end
end

/*
 * Register writes, init walker, AXI-Lite responses
 */
always_ff @(posedge clk) begin
    // bitmap RAM lookup ports (datapath)
    mta_lookup_data_reg  <= mta_mem[mta_lookup_addr];
    vfta_lookup_data_reg <= vfta_mem[vfta_lookup_addr];

    // bitmap RAM read for the register interface
    if (rd_fire) begin
        mta_rd_data_reg  <= mta_mem[raddr_in[8:2]];
        vfta_rd_data_reg <= vfta_mem[raddr_in[8:2]];
    end

    // write response handshake
    if (bvalid_reg && s_axil_bready) begin
        bvalid_reg <= 1'b0;
    end

    // read handshake
    if (rvalid_reg && s_axil_rready) begin
        rvalid_reg <= 1'b0;
    end
    if (rd_pending_reg) begin
        rd_pending_reg <= 1'b0;
        rvalid_reg <= 1'b1;
        rdata_reg <= rd_mux;
    end
    if (rd_fire) begin
        rd_pending_reg <= 1'b1;
        rd_addr_reg <= raddr_in;
        r_in_map_reg <= r_in_map;
    end

    if (busy_reg) begin
        // init walker: clear one entry of every table per cycle
        rar_mac_reg[init_idx_reg[6:0]] <= 48'd0;
        rar_av_reg[init_idx_reg[6:0]] <= 1'b0;
        mpsar_reg[init_idx_reg[6:0]] <= 64'd0;
        if (init_idx_reg < 8'd64) begin
            vlvf_vid_reg[init_idx_reg[5:0]] <= 12'd0;
            vlvf_en_reg[init_idx_reg[5:0]] <= 1'b0;
            vlvfb_reg[init_idx_reg[5:0]] <= 64'd0;
        end
        if (init_idx_reg < 8'd32) begin
            reta_reg[init_idx_reg[4:0]] <= 32'd0;
        end
        if (init_idx_reg < 8'd10) begin
            rssrk_reg[init_idx_reg[3:0]] <= 32'd0;
        end
        mta_mem[init_idx_reg[6:0]] <= 32'd0;
        vfta_mem[init_idx_reg[6:0]] <= 32'd0;
        init_idx_reg <= init_idx_reg + 8'd1;
        if (init_idx_reg == 8'd127) begin
            busy_reg <= 1'b0;
        end
    end else if (wr_fire) begin
        bvalid_reg <= 1'b1;
        bresp_reg <= wfull ? 2'b00 : 2'b10;

        if (wfull && w_in_map) begin
            // AXI lite write
            if (waddr[15:9] == MTA_ADDR[15:9]) begin
                mta_mem[waddr[8:2]] <= wdata;
            end else if (waddr[15:9] == VFTA_ADDR[15:9]) begin
                vfta_mem[waddr[8:2]] <= wdata;
            end else if (waddr[15:7] == RETA_ADDR[15:7]) begin
                reta_reg[waddr[6:2]] <= wdata;
            end else if (waddr[15:6] == RSSRK_ADDR[15:6]) begin
                if (waddr[5:2] < 4'd10) begin
                    rssrk_reg[waddr[5:2]] <= wdata;
                end
            end else if (w_is_rar) begin
                if (32'(w_rar_idx) < NUM_MAC_FILTERS) begin
                    if (!w_rar_off[2]) begin
                        rar_mac_reg[w_rar_idx][47:16] <= {wdata[7:0], wdata[15:8], wdata[23:16], wdata[31:24]};
                    end else begin
                        rar_mac_reg[w_rar_idx][15:0] <= {wdata[7:0], wdata[15:8]};
                        rar_av_reg[w_rar_idx] <= wdata[31];
                    end
                end
            end else if (w_is_mpsar) begin
                if (32'(w_mpsar_idx) < NUM_MAC_FILTERS) begin
                    if (w_mpsar_off[2]) begin
                        mpsar_reg[w_mpsar_idx][63:32] <= wdata & POOL_MASK[63:32];
                    end else begin
                        mpsar_reg[w_mpsar_idx][31:0] <= wdata & POOL_MASK[31:0];
                    end
                end
            end else if (waddr[15:8] == VMOLR_ADDR[15:8]) begin
                if (32'(waddr[7:2]) < NUM_POOLS) begin
                    upe_reg[waddr[7:2]]   <= wdata[22];
                    vpe_reg[waddr[7:2]]   <= wdata[23];
                    aupe_reg[waddr[7:2]]  <= wdata[24];
                    rompe_reg[waddr[7:2]] <= wdata[25];
                    bam_reg[waddr[7:2]]   <= wdata[27];
                    mpe_reg[waddr[7:2]]   <= wdata[28];
                end
            end else if (waddr[15:8] == VLVF_ADDR[15:8]) begin
                vlvf_vid_reg[waddr[7:2]] <= wdata[11:0];
                vlvf_en_reg[waddr[7:2]] <= wdata[31];
            end else if (waddr[15:9] == VLVFB_ADDR[15:9]) begin
                if (waddr[2]) begin
                    vlvfb_reg[waddr[8:3]][63:32] <= wdata & POOL_MASK[63:32];
                end else begin
                    vlvfb_reg[waddr[8:3]][31:0] <= wdata & POOL_MASK[31:0];
                end
            end else begin
                case (waddr)
                    EXVET_ADDR: begin
                        exvet_reg <= wdata[31:16];
                    end
                    VLNCTRL_ADDR: begin
                        vet_reg <= wdata[15:0];
                        vfe_reg <= wdata[30];
                    end
                    MCSTCTRL_ADDR: begin
                        mc_offset_reg <= wdata[1:0];
                        mc_filter_en_reg <= wdata[2];
                    end
                    VT_CTL_ADDR: begin
                        def_pool_reg <= wdata[12:7];
                        def_pool_dis_reg <= wdata[29];
                        repl_en_reg <= wdata[30];
                    end
                    VFRE_ADDR: begin
                        vfre_reg[31:0] <= wdata & POOL_MASK[31:0];
                    end
                    VFRE_ADDR + 16'd4: begin
                        vfre_reg[63:32] <= wdata & POOL_MASK[63:32];
                    end
                    MRQC_ADDR: begin
                        rss_field_en_reg <= {wdata[23:20], wdata[17:16]};
                    end
                    RUNT_LEN_ADDR: begin
                        runt_len_reg <= wdata[6:0];
                    end
                    default: begin
                        // read-only or unmapped: ignored
                    end
                endcase
            end
        end
    end

    if (rst) begin
        init_idx_reg <= 8'd0;
        busy_reg <= 1'b1;
        bvalid_reg <= 1'b0;
        bresp_reg <= 2'b00;
        rd_pending_reg <= 1'b0;
        rvalid_reg <= 1'b0;
        upe_reg <= 64'd0;
        vpe_reg <= 64'd0;
        aupe_reg <= 64'd0;
        rompe_reg <= 64'd0;
        bam_reg <= 64'd0;
        mpe_reg <= 64'd0;
        vfre_reg <= 64'd0;
        def_pool_reg <= 6'd0;
        def_pool_dis_reg <= 1'b0;
        repl_en_reg <= 1'b0;
        vet_reg <= 16'h8100;
        vfe_reg <= 1'b0;
        exvet_reg <= 16'h88A8;
        mc_offset_reg <= 2'd0;
        mc_filter_en_reg <= 1'b0;
        rss_field_en_reg <= 6'd0;
        runt_len_reg <= 7'd60;
    end
end

/*
 * Exports
 */
for (genvar i = 0; i < NUM_MAC_FILTERS; i = i + 1) begin : g_rar
    assign rar_mac[i]   = rar_mac_reg[i];
    assign rar_valid[i] = rar_av_reg[i];
    assign rar_pools[i] = mpsar_reg[i][NUM_POOLS-1:0];
end

for (genvar j = 0; j < 64; j = j + 1) begin : g_vlvf
    assign vlvf_vid[j]   = vlvf_vid_reg[j];
    assign vlvf_valid[j] = vlvf_en_reg[j];
    assign vlvf_pools[j] = vlvfb_reg[j][NUM_POOLS-1:0];
end

for (genvar k = 0; k < 40; k = k + 1) begin : g_key
    // key byte k lives in RSSRK(k/4) bits [8*(k%4) +: 8]
    assign rss_key[319-8*k -: 8] = rssrk_reg[k/4][8*(k%4) +: 8];
end

for (genvar r = 0; r < 32; r = r + 1) begin : g_reta
    assign reta[32*r +: 32] = reta_reg[r];
end

assign pool_upe        = upe_reg[NUM_POOLS-1:0];
assign pool_vpe        = vpe_reg[NUM_POOLS-1:0];
assign pool_aupe       = aupe_reg[NUM_POOLS-1:0];
assign pool_rompe      = rompe_reg[NUM_POOLS-1:0];
assign pool_bam        = bam_reg[NUM_POOLS-1:0];
assign pool_mpe        = mpe_reg[NUM_POOLS-1:0];
assign pool_rx_en      = vfre_reg[NUM_POOLS-1:0];
assign def_pool        = def_pool_reg;
assign def_pool_dis    = def_pool_dis_reg;
assign repl_en         = repl_en_reg;
assign vlan_ethertype  = vet_reg;
assign outer_ethertype = exvet_reg;
assign vlan_filter_en  = vfe_reg;
assign mc_offset       = mc_offset_reg;
assign mc_filter_en    = mc_filter_en_reg;
assign rss_field_en    = rss_field_en_reg;
assign runt_len        = runt_len_reg;

assign mta_lookup_data  = mta_lookup_data_reg;
assign vfta_lookup_data = vfta_lookup_data_reg;

assign busy = busy_reg;

endmodule

`resetall
