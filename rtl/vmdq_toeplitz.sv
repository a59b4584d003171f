// SPDX-License-Identifier: Apache-2.0
/*
 * VMDq classifier: pipelined Toeplitz (RSS) hash
 *
 * The Toeplitz hash is linear over GF(2): input bit i (counted from the MSB
 * of input byte 0) contributes the 32-bit key window K[i .. i+31] when it is
 * set.  The hash is therefore an XOR-reduce of up to 8*DATA_BYTES windows of
 * the register-programmed key.  Stage 1 reduces each input byte to one
 * 32-bit partial (an 8-input AND-XOR per output bit), stage 2 XORs the
 * DATA_BYTES partials.  One hash per cycle, latency 2 cycles.
 *
 * Unused trailing input bytes must be zero; zero bits contribute nothing,
 * so a single instance serves every input layout (IPv4 8/12 bytes,
 * IPv6 32/36 bytes).
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module vmdq_toeplitz #
(
    // Number of input bytes hashed (36 covers IPv6 addresses plus ports)
    parameter DATA_BYTES = 36
)
(
    input  wire                         clk,
    input  wire                         rst,

    /*
     * Key, byte 0 in the most significant byte
     */
    input  wire [(DATA_BYTES+4)*8-1:0]  key,

    /*
     * Input: byte 0 in the most significant byte
     */
    input  wire [DATA_BYTES*8-1:0]      in_data,
    input  wire                         in_valid,

    /*
     * Output (2 cycles after the input)
     */
    output wire [31:0]                  out_hash,
    output wire                         out_valid
);

localparam KEY_W = (DATA_BYTES+4)*8;
localparam IN_W = DATA_BYTES*8;

// check configuration
if (DATA_BYTES < 1) begin : g_check_1
    $fatal(0, "Error: DATA_BYTES must be at least 1 (instance %m)");
end

logic [31:0] partial_reg[DATA_BYTES];
logic        stage1_valid_reg;
logic [31:0] hash_reg;
logic        stage2_valid_reg;

// stage 1: one partial per input byte
logic [31:0] partial_next[DATA_BYTES];

always_comb begin
    for (int b = 0; b < DATA_BYTES; b = b + 1) begin
        partial_next[b] = 32'd0;
        for (int k = 0; k < 8; k = k + 1) begin
            // input bit i = 8*b + k (from the MSB) selects key window K[i .. i+31]
            if (in_data[IN_W-1-(8*b+k)]) begin
                partial_next[b] = partial_next[b] ^ key[KEY_W-1-(8*b+k) -: 32];
            end
        end
    end
end

// stage 2: XOR-reduce the partials
logic [31:0] hash_next;

always_comb begin
    hash_next = 32'd0;
    for (int b = 0; b < DATA_BYTES; b = b + 1) begin
        hash_next = hash_next ^ partial_reg[b];
    end
end

always_ff @(posedge clk) begin
    for (int b = 0; b < DATA_BYTES; b = b + 1) begin
        partial_reg[b] <= partial_next[b];
    end
    stage1_valid_reg <= in_valid;

    hash_reg <= hash_next;
    stage2_valid_reg <= stage1_valid_reg;

    if (rst) begin
        stage1_valid_reg <= 1'b0;
        stage2_valid_reg <= 1'b0;
    end
end

assign out_hash = hash_reg;
assign out_valid = stage2_valid_reg;

endmodule

`resetall
