// SPDX-License-Identifier: Apache-2.0
/*
 * VMDq classifier: header parser
 *
 * Takes the first HDR_BYTES bytes of a frame (byte i in bits [8*i +: 8])
 * and the frame length (saturated at 255), and produces in two register
 * stages:
 *   stage 1 - L2: destination address, broadcast/multicast, 802.1Q tag
 *             (an outer tag whose TPID equals EXVET is skipped first),
 *             VLAN ID, runt flag, and the 64 bytes that start at L3;
 *   stage 2 - L3/L4: the RSS hash type and the Toeplitz input bytes
 *             (addresses, then ports; unused trailing bytes are zero).
 * A field is used only when all its bytes lie inside the frame, so
 * truncated frames fall back to a shorter hash (or none).
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module vmdq_parser #
(
    // Number of captured header bytes (at least 86: 14 + 2 tags + 60 + 4)
    parameter HDR_BYTES = 88
)
(
    input  wire                    clk,
    input  wire                    rst,

    /*
     * Captured header
     */
    input  wire [HDR_BYTES*8-1:0]  hdr_data,
    input  wire [7:0]              hdr_len,
    input  wire                    hdr_valid,

    /*
     * Configuration
     */
    input  wire [15:0]             vlan_ethertype,
    input  wire [15:0]             outer_ethertype,
    input  wire [6:0]              runt_len,
    // {ipv6_udp, ipv4_udp, ipv6_tcp, ipv6, ipv4, ipv4_tcp}
    input  wire [5:0]              rss_field_en,

    /*
     * Stage 1 outputs (L2)
     */
    output wire                    l2_valid,
    output wire [47:0]             l2_da,
    output wire                    l2_tagged,
    output wire [11:0]             l2_vid,
    output wire                    l2_runt,

    /*
     * Stage 2 outputs (RSS)
     */
    output wire                    l3_valid,
    output wire [3:0]              l3_hash_type,
    output wire [287:0]            l3_hash_data
);

// RSS types as reported in the 82599 receive descriptor
localparam [3:0] RSS_NONE     = 4'd0;
localparam [3:0] RSS_IPV4_TCP = 4'd1;
localparam [3:0] RSS_IPV4     = 4'd2;
localparam [3:0] RSS_IPV6_TCP = 4'd3;
localparam [3:0] RSS_IPV6     = 4'd5;
localparam [3:0] RSS_IPV4_UDP = 4'd7;
localparam [3:0] RSS_IPV6_UDP = 4'd8;

// check configuration
if (HDR_BYTES < 86) begin : g_check_1
    $fatal(0, "Error: HDR_BYTES must be at least 86 (instance %m)");
end

function automatic [7:0] hb(input [HDR_BYTES*8-1:0] d, input integer i);
    hb = d[8*i +: 8];
endfunction

/*
 * Stage 1: L2
 */
logic         s1_valid_reg;
logic [47:0]  s1_da_reg;
logic         s1_tagged_reg;
logic [11:0]  s1_vid_reg;
logic         s1_runt_reg;
logic [15:0]  s1_ethertype_reg;
logic [511:0] s1_l3_reg;
logic [7:0]   s1_l3_len_reg;

logic [15:0]  et0, et1, et2;
logic         stag, ctag;
logic [11:0]  vid;
logic [7:0]   l3_off;
logic [511:0] l3_bytes;
logic [6:0]   runt_thresh;

always_comb begin
    et0 = {hb(hdr_data, 12), hb(hdr_data, 13)};
    // outer (S-)tag skipped when its TPID matches EXVET and the next type is present
    stag = et0 == outer_ethertype && hdr_len >= 8'd18;
    et1 = stag ? {hb(hdr_data, 16), hb(hdr_data, 17)} : et0;
    // 802.1Q tag: TPID matches VLNCTRL.VET and the inner type is present
    ctag = et1 == vlan_ethertype && hdr_len >= (stag ? 8'd22 : 8'd18);
    vid = stag ? {hdr_data[8*18 +: 4], hb(hdr_data, 19)} : {hdr_data[8*14 +: 4], hb(hdr_data, 15)};
    et2 = et1;
    if (ctag) begin
        et2 = stag ? {hb(hdr_data, 20), hb(hdr_data, 21)} : {hb(hdr_data, 16), hb(hdr_data, 17)};
    end
    l3_off = 8'd14 + (stag ? 8'd4 : 8'd0) + (ctag ? 8'd4 : 8'd0);
    case ({stag, ctag})
        2'b00:   l3_bytes = hdr_data[8*14 +: 512];
        2'b11:   l3_bytes = hdr_data[8*22 +: 512];
        default: l3_bytes = hdr_data[8*18 +: 512];
    endcase
    runt_thresh = runt_len > 7'd64 ? 7'd64 : runt_len;
end

/*
 * Stage 2: L3/L4
 */
logic         s2_valid_reg;
logic [3:0]   s2_hash_type_reg;
logic [287:0] s2_hash_data_reg;

function automatic [7:0] lb(input [511:0] d, input integer i);
    lb = d[8*i +: 8];
endfunction

logic [3:0]   hash_type;
logic [287:0] hash_data;
logic         is_v4, is_v6, v4_frag, v4_ports_ok, v6_ports_ok;
logic [3:0]   ihl;
logic [31:0]  v4_ports;
logic [7:0]   l4_end;

always_comb begin
    ihl = s1_l3_reg[3:0];
    is_v4 = s1_ethertype_reg == 16'h0800 && s1_l3_len_reg >= 8'd20 &&
            s1_l3_reg[7:4] == 4'd4 && ihl >= 4'd5;
    is_v6 = s1_ethertype_reg == 16'h86DD && s1_l3_len_reg >= 8'd40 &&
            s1_l3_reg[7:4] == 4'd6;

    // fragments (MF set or non-zero offset) hash on addresses only
    v4_frag = ({lb(s1_l3_reg, 6), lb(s1_l3_reg, 7)} & 16'h3FFF) != 16'd0;
    l4_end = {2'b00, ihl, 2'b00} + 8'd4;
    v4_ports_ok = !v4_frag && s1_l3_len_reg >= l4_end;

    // L4 ports follow the IPv4 options: select them by IHL
    v4_ports = 32'd0;
    for (int i = 5; i < 16; i = i + 1) begin
        if (ihl == 4'(i)) begin
            v4_ports = {lb(s1_l3_reg, 4*i), lb(s1_l3_reg, 4*i+1), lb(s1_l3_reg, 4*i+2), lb(s1_l3_reg, 4*i+3)};
        end
    end

    v6_ports_ok = s1_l3_len_reg >= 8'd44;

    hash_type = RSS_NONE;
    hash_data = 288'd0;
    if (is_v4) begin
        if (lb(s1_l3_reg, 9) == 8'd6 && v4_ports_ok && rss_field_en[0]) begin
            hash_type = RSS_IPV4_TCP;
        end else if (lb(s1_l3_reg, 9) == 8'd17 && v4_ports_ok && rss_field_en[4]) begin
            hash_type = RSS_IPV4_UDP;
        end else if (rss_field_en[1]) begin
            hash_type = RSS_IPV4;
        end
        // source and destination address, then ports when they are hashed
        hash_data[287 -: 64] =
            {lb(s1_l3_reg, 12), lb(s1_l3_reg, 13), lb(s1_l3_reg, 14), lb(s1_l3_reg, 15),
             lb(s1_l3_reg, 16), lb(s1_l3_reg, 17), lb(s1_l3_reg, 18), lb(s1_l3_reg, 19)};
        if (hash_type == RSS_IPV4_TCP || hash_type == RSS_IPV4_UDP) begin
            hash_data[223 -: 32] = v4_ports;
        end
    end else if (is_v6) begin
        if (lb(s1_l3_reg, 6) == 8'd6 && v6_ports_ok && rss_field_en[3]) begin
            hash_type = RSS_IPV6_TCP;
        end else if (lb(s1_l3_reg, 6) == 8'd17 && v6_ports_ok && rss_field_en[5]) begin
            hash_type = RSS_IPV6_UDP;
        end else if (rss_field_en[2]) begin
            hash_type = RSS_IPV6;
        end
        for (int i = 0; i < 32; i = i + 1) begin
            hash_data[287-8*i -: 8] = lb(s1_l3_reg, 8+i);
        end
        if (hash_type == RSS_IPV6_TCP || hash_type == RSS_IPV6_UDP) begin
            hash_data[31:0] = {lb(s1_l3_reg, 40), lb(s1_l3_reg, 41), lb(s1_l3_reg, 42), lb(s1_l3_reg, 43)};
        end
    end
    if (hash_type == RSS_NONE) begin
        hash_data = 288'd0;
    end
end

always_ff @(posedge clk) begin
    // stage 1
    s1_valid_reg <= hdr_valid;
    s1_da_reg <= {hb(hdr_data, 0), hb(hdr_data, 1), hb(hdr_data, 2),
                  hb(hdr_data, 3), hb(hdr_data, 4), hb(hdr_data, 5)};
    s1_tagged_reg <= ctag;
    s1_vid_reg <= ctag ? vid : 12'd0;
    s1_runt_reg <= hdr_len < 8'd14 || hdr_len < {1'b0, runt_thresh};
    s1_ethertype_reg <= et2;
    s1_l3_reg <= l3_bytes;
    s1_l3_len_reg <= hdr_len > l3_off ? hdr_len - l3_off : 8'd0;

    // stage 2
    s2_valid_reg <= s1_valid_reg;
    s2_hash_type_reg <= hash_type;
    s2_hash_data_reg <= hash_data;

    if (rst) begin
        s1_valid_reg <= 1'b0;
        s2_valid_reg <= 1'b0;
    end
end

assign l2_valid = s1_valid_reg;
assign l2_da = s1_da_reg;
assign l2_tagged = s1_tagged_reg;
assign l2_vid = s1_vid_reg;
assign l2_runt = s1_runt_reg;

assign l3_valid = s2_valid_reg;
assign l3_hash_type = s2_hash_type_reg;
assign l3_hash_data = s2_hash_data_reg;

endmodule

`resetall
