# programs.nix-tokens.caches, shared by the NixOS and nix-darwin modules: binary caches Nix uses,
# each with its substituter URL, its public key and the secret file holding its token.
lib:
lib.mkOption {
  type = lib.types.listOf (
    lib.types.submodule {
      options = {
        url = lib.mkOption {
          type = lib.types.strMatching "https?://[^/:?]+.*";
          example = "https://mycache.cachix.org";
          description = "The cache's substituter URL, added to `nix.settings.substituters`.";
        };
        publicKey = lib.mkOption {
          type = lib.types.nullOr lib.types.str;
          default = null;
          example = "mycache.cachix.org-1:eWNHQldwUO7G2VkjpnjDbWwy4KQ/HNxht7H4SSoMckM=";
          description = ''
            The key the cache's paths are signed with, added to `nix.settings.trusted-public-keys`.
            Without one, Nix accepts only the paths from the cache that it can check otherwise.
          '';
        };
        tokenFile = lib.mkOption {
          type = lib.types.nullOr (
            lib.types.pathWith {
              inStore = false;
              absolute = true;
            }
          );
          default = null;
          description = "A secret file holding the cache's token alone (a public cache needs none).";
        };
        provider = lib.mkOption {
          type = lib.types.str;
          default = "nix-cache";
          example = "cachix";
          description = "The cache's provider (cachix, attic, flakehub or nix-cache).";
        };
      };
    }
  );
  default = [ ];
  example = lib.literalExpression ''
    [
      {
        url = "https://mycache.cachix.org";
        publicKey = "mycache.cachix.org-1:…";
        tokenFile = config.sops.secrets.cachix.path;
        provider = "cachix";
      }
    ]
  '';
  description = ''
    Binary caches Nix uses, as `nix-tokens login` sets them up elsewhere: each URL joins
    `nix.settings.substituters`, each key `nix.settings.trusted-public-keys` (the system
    configuration, which the nix-daemon honours for every user), and each token file is merged
    into the daemon's netrc for the URL's host (on NixOS through `cacheTokens`, on nix-darwin
    through a launchd daemon run at load).
  '';
}
