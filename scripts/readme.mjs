// The README as the Marketplace shows it: vsce refuses relative pictures and links unless the manifest names a
// repository to resolve them against. Pictures are dropped, links keep their text; absolute links and anchors stay.

export function marketplaceReadme(text) {
  return text
    .replace(/!\[[^\]]*\]\((?![a-z]+:)[^)]*\)\s*/gi, '')
    .replace(/\[([^\]]+)\]\((?![a-z]+:|#)[^)]*\)/gi, '$1');
}
