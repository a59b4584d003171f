// SPDX-License-Identifier: Apache-2.0
/*
 * VMDq classifier: synchronous first-word-fall-through FIFO
 *
 * Used twice by vmdq_classifier: once for frame beats, once for the
 * per-frame classification results.  Read data is the memory word at the
 * read pointer, so the head entry is visible in the cycle after it is
 * written and a push and a pop can happen in the same cycle at full rate.
 */

`resetall
`timescale 1ns / 1ps
`default_nettype none

module vmdq_fifo #
(
    // Width of one entry in bits
    parameter WIDTH = 64,
    // Number of entries (power of two, at least 2)
    parameter DEPTH = 32
)
(
    input  wire              clk,
    input  wire              rst,

    /*
     * Write side
     */
    input  wire [WIDTH-1:0]  wr_data,
    input  wire              wr_en,
    output wire              full,

    /*
     * Read side (first word fall through)
     */
    output wire [WIDTH-1:0]  rd_data,
    input  wire              rd_en,
    output wire              empty
);

localparam ADDR_W = $clog2(DEPTH);

// check configuration
if (DEPTH < 2 || (1 << ADDR_W) != DEPTH) begin : g_check_1
    $fatal(0, "Error: DEPTH must be a power of two >= 2 (instance %m)");
end
if (WIDTH < 1) begin : g_check_2
    $fatal(0, "Error: WIDTH must be at least 1 (instance %m)");
end

(* ramstyle = "no_rw_check" *)
logic [WIDTH-1:0] mem[DEPTH];

logic [ADDR_W:0] wr_ptr_reg;
logic [ADDR_W:0] rd_ptr_reg;

// full when the pointers differ only in their MSB
assign full  = (wr_ptr_reg == (rd_ptr_reg ^ {1'b1, {ADDR_W{1'b0}}}));
assign empty = (wr_ptr_reg == rd_ptr_reg);

assign rd_data = mem[rd_ptr_reg[ADDR_W-1:0]];

always_ff @(posedge clk) begin
    // write (ignored when full)
    if (wr_en && !full) begin
        mem[wr_ptr_reg[ADDR_W-1:0]] <= wr_data;
        wr_ptr_reg <= wr_ptr_reg + 1;
    end

    // read (ignored when empty)
    if (rd_en && !empty) begin
        rd_ptr_reg <= rd_ptr_reg + 1;
    end

    if (rst) begin
        wr_ptr_reg <= '0;
        rd_ptr_reg <= '0;
    end
end

endmodule

`resetall
