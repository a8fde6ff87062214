# programs.git's options as NixOS (nixos/modules/programs/git.nix) and recent nix-darwin
# (modules/programs/git.nix) declare them: `config` is a git INI attribute set, or a list of them,
# merged as there; both write `concatMapStringsSep "\n" generators.toGitINI config` to /etc/gitconfig.
{ lib, ... }:
let
  inherit (lib) mkOption types;
in
{
  options.programs.git = {
    enable = lib.mkEnableOption "git";
    config = mkOption {
      type =
        with types;
        let
          gitini = attrsOf (attrsOf anything);
        in
        either gitini (listOf gitini)
        // {
          merge =
            loc: defs:
            let
              config = builtins.foldl' (
                acc:
                { value, ... }@x:
                acc
                // (
                  if builtins.isList value then
                    { ordered = acc.ordered ++ value; }
                  else
                    { unordered = acc.unordered ++ [ x ]; }
                )
              ) { ordered = [ ]; unordered = [ ]; } defs;
            in
            [ (gitini.merge loc config.unordered) ] ++ config.ordered;
        };
      default = [ ];
    };
  };
}
