# home-manager's programs.gh, as far as git is concerned (modules/programs/gh.nix): the options
# of its credential helper with their defaults, and the very definition it makes of
# programs.git.settings, a helper list that first resets the helpers git collected before.
{ config, lib, ... }:
let
  cfg = config.programs.gh;
in
{
  options.programs.gh = {
    enable = lib.mkEnableOption "GitHub CLI tool";
    package = lib.mkOption { type = lib.types.package; };
    gitCredentialHelper = {
      enable = lib.mkEnableOption "the gh git credential helper" // {
        default = true;
      };
      hosts = lib.mkOption {
        type = lib.types.listOf lib.types.str;
        default = [
          "https://github.com"
          "https://gist.github.com"
        ];
      };
    };
  };

  config = lib.mkIf cfg.enable {
    home.packages = [ cfg.package ];
    programs.git.settings.credential = lib.mkIf cfg.gitCredentialHelper.enable (
      builtins.listToAttrs (
        map (
          host:
          lib.nameValuePair host {
            helper = [
              ""
              "${cfg.package}/bin/gh auth git-credential"
            ];
          }
        ) cfg.gitCredentialHelper.hosts
      )
    );
  };
}
