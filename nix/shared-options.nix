# The options of programs.nix-tokens that the NixOS, nix-darwin and home-manager modules share,
# declared once: each module imports this file and declares only what is its own.
self:
{ lib, pkgs, ... }:
{
  _file = ./shared-options.nix;

  options.programs.nix-tokens = {
    enable = lib.mkEnableOption "nix-tokens, which puts code forge access tokens where Nix reads them";

    package = lib.mkOption {
      type = lib.types.package;
      default = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
      defaultText = lib.literalExpression "nix-tokens.packages.\${system}.default";
      description = "The nix-tokens package to install.";
    };

    gitCredentialHelper = {
      enable = lib.mkEnableOption ''
        nix-tokens as git's credential helper for `hosts`, so that git+https inputs get the tokens
        too: in the user's git configuration with home-manager (needs `programs.git.enable`), in
        /etc/gitconfig with NixOS and nix-darwin, where it also answers root's git, so that
        `sudo nixos-rebuild` and `darwin-rebuild` fetch with the tokens root's configuration
        holds (see `sudo nix-tokens --system import --from-user NAME`)'';

      hosts = lib.mkOption {
        type = lib.types.listOf lib.types.str;
        default = [
          "github.com"
          "gitlab.com"
        ];
        example = [
          "github.com"
          "git.example.com"
        ];
        description = ''
          The hosts git asks nix-tokens for (`credential."https://HOST".helper`, a list). Other
          helpers stay in place and are asked first: those set for all hosts
          (`credential.helper`), then those other modules set for the host. A host without a
          token gets no answer from nix-tokens.
        '';
      };

      useHttpPath = lib.mkOption {
        type = lib.types.bool;
        default = true;
        description = ''
          Set `credential."https://HOST".useHttpPath`, so that git names the repository and a
          token stored for one owner (`nix-tokens login github --owner my-org`) is chosen for it.
        '';
      };
    };

    refresh.interval = lib.mkOption {
      type = lib.types.ints.positive;
      default = 30;
      description = ''
        Minutes between two runs of `nix-tokens refresh` (`nix-tokens --system refresh` for the
        system's tokens). Each run renews tokens with less than twice this long left, so a token
        never expires between two runs.
      '';
    };
  };
}
