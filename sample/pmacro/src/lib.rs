//! A function-like proc-macro with no dependencies.

use proc_macro::TokenStream;

#[proc_macro]
pub fn answer(_input: TokenStream) -> TokenStream {
    "42u32".parse().expect("valid tokens")
}
