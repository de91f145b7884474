import { PublisherApi, sleep } from './api.js';

/**
 * The Opera Game (Paul Morphy v the Duke of Brunswick and Count Isouard, Paris 1858), one of the
 * best-known miniatures: each ply with the position after it as FEN (computed once with a
 * move validator; the publisher needs none).
 */
export const OPERA_GAME: ReadonlyArray<readonly [san: string, fen: string]> = [
  ['e4', 'rnbqkbnr/pppppppp/8/8/4P3/8/PPPP1PPP/RNBQKBNR b KQkq - 0 1'],
  ['e5', 'rnbqkbnr/pppp1ppp/8/4p3/4P3/8/PPPP1PPP/RNBQKBNR w KQkq - 0 2'],
  ['Nf3', 'rnbqkbnr/pppp1ppp/8/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R b KQkq - 1 2'],
  ['d6', 'rnbqkbnr/ppp2ppp/3p4/4p3/4P3/5N2/PPPP1PPP/RNBQKB1R w KQkq - 0 3'],
  ['d4', 'rnbqkbnr/ppp2ppp/3p4/4p3/3PP3/5N2/PPP2PPP/RNBQKB1R b KQkq - 0 3'],
  ['Bg4', 'rn1qkbnr/ppp2ppp/3p4/4p3/3PP1b1/5N2/PPP2PPP/RNBQKB1R w KQkq - 1 4'],
  ['dxe5', 'rn1qkbnr/ppp2ppp/3p4/4P3/4P1b1/5N2/PPP2PPP/RNBQKB1R b KQkq - 0 4'],
  ['Bxf3', 'rn1qkbnr/ppp2ppp/3p4/4P3/4P3/5b2/PPP2PPP/RNBQKB1R w KQkq - 0 5'],
  ['Qxf3', 'rn1qkbnr/ppp2ppp/3p4/4P3/4P3/5Q2/PPP2PPP/RNB1KB1R b KQkq - 0 5'],
  ['dxe5', 'rn1qkbnr/ppp2ppp/8/4p3/4P3/5Q2/PPP2PPP/RNB1KB1R w KQkq - 0 6'],
  ['Bc4', 'rn1qkbnr/ppp2ppp/8/4p3/2B1P3/5Q2/PPP2PPP/RNB1K2R b KQkq - 1 6'],
  ['Nf6', 'rn1qkb1r/ppp2ppp/5n2/4p3/2B1P3/5Q2/PPP2PPP/RNB1K2R w KQkq - 2 7'],
  ['Qb3', 'rn1qkb1r/ppp2ppp/5n2/4p3/2B1P3/1Q6/PPP2PPP/RNB1K2R b KQkq - 3 7'],
  ['Qe7', 'rn2kb1r/ppp1qppp/5n2/4p3/2B1P3/1Q6/PPP2PPP/RNB1K2R w KQkq - 4 8'],
  ['Nc3', 'rn2kb1r/ppp1qppp/5n2/4p3/2B1P3/1QN5/PPP2PPP/R1B1K2R b KQkq - 5 8'],
  ['c6', 'rn2kb1r/pp2qppp/2p2n2/4p3/2B1P3/1QN5/PPP2PPP/R1B1K2R w KQkq - 0 9'],
  ['Bg5', 'rn2kb1r/pp2qppp/2p2n2/4p1B1/2B1P3/1QN5/PPP2PPP/R3K2R b KQkq - 1 9'],
  ['b5', 'rn2kb1r/p3qppp/2p2n2/1p2p1B1/2B1P3/1QN5/PPP2PPP/R3K2R w KQkq - 0 10'],
  ['Nxb5', 'rn2kb1r/p3qppp/2p2n2/1N2p1B1/2B1P3/1Q6/PPP2PPP/R3K2R b KQkq - 0 10'],
  ['cxb5', 'rn2kb1r/p3qppp/5n2/1p2p1B1/2B1P3/1Q6/PPP2PPP/R3K2R w KQkq - 0 11'],
  ['Bxb5+', 'rn2kb1r/p3qppp/5n2/1B2p1B1/4P3/1Q6/PPP2PPP/R3K2R b KQkq - 0 11'],
  ['Nbd7', 'r3kb1r/p2nqppp/5n2/1B2p1B1/4P3/1Q6/PPP2PPP/R3K2R w KQkq - 1 12'],
  ['O-O-O', 'r3kb1r/p2nqppp/5n2/1B2p1B1/4P3/1Q6/PPP2PPP/2KR3R b kq - 2 12'],
  ['Rd8', '3rkb1r/p2nqppp/5n2/1B2p1B1/4P3/1Q6/PPP2PPP/2KR3R w k - 3 13'],
  ['Rxd7', '3rkb1r/p2Rqppp/5n2/1B2p1B1/4P3/1Q6/PPP2PPP/2K4R b k - 0 13'],
  ['Rxd7', '4kb1r/p2rqppp/5n2/1B2p1B1/4P3/1Q6/PPP2PPP/2K4R w k - 0 14'],
  ['Rd1', '4kb1r/p2rqppp/5n2/1B2p1B1/4P3/1Q6/PPP2PPP/2KR4 b k - 1 14'],
  ['Qe6', '4kb1r/p2r1ppp/4qn2/1B2p1B1/4P3/1Q6/PPP2PPP/2KR4 w k - 2 15'],
  ['Bxd7+', '4kb1r/p2B1ppp/4qn2/4p1B1/4P3/1Q6/PPP2PPP/2KR4 b k - 0 15'],
  ['Nxd7', '4kb1r/p2n1ppp/4q3/4p1B1/4P3/1Q6/PPP2PPP/2KR4 w k - 0 16'],
  ['Qb8+', '1Q2kb1r/p2n1ppp/4q3/4p1B1/4P3/8/PPP2PPP/2KR4 b k - 1 16'],
  ['Nxb8', '1n2kb1r/p4ppp/4q3/4p1B1/4P3/8/PPP2PPP/2KR4 w k - 0 17'],
  ['Rd8#', '1n1Rkb1r/p4ppp/4q3/4p1B1/4P3/8/PPP2PPP/2K5 b k - 1 17'],
];

/** What the commentator says at the moments worth a notification. */
const COMMENTS: Record<number, string> = {
  18: 'Black wastes time with ...b5?; Morphy answers by sacrificing the knight.',
  22: 'Morphy castles long: every white piece joins the attack.',
  24: 'Rxd7! The exchange sacrifice tears the pin open.',
  30: 'Qb8+!! The queen sacrifice: mate follows.',
  32: 'Rd8# Checkmate with the last two pieces.',
};

const START_FEN = 'rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1';

/**
 * Plays the Opera Game move by move as score patches (FEN after each move), with notices for
 * checks, the sacrifices and the mate; starts the game again after a pause. Runs until aborted.
 */
export async function playChess(api: PublisherApi, eventId: string, moveMs: number, signal: AbortSignal): Promise<void> {
  await api.putEvent(eventId, { title: 'Morphy v Duke & Count, Paris 1858 (demo)', sport: 'chess', state: 'live', meta: { site: 'Paris Opera' } }, signal);
  for (let game = 1; !signal.aborted; game++) {
    // version grows across games too, so a late retry of an old move can never win.
    const base = game * 1000;
    await api.score(eventId, { op: 'set', type: 'start', version: base, data: { white: 'Paul Morphy', black: 'Duke & Count', fen: START_FEN, moves: [], turn: 'white' } }, signal);
    await api.notice(eventId, { type: 'start', title: 'The game begins', body: 'Morphy has White.' }, signal);
    const moves: string[] = [];
    for (const [ply, [san, fen]] of OPERA_GAME.entries()) {
      await sleep(moveMs, signal);
      moves.push(san);
      const mate = san.endsWith('#');
      const data: Record<string, unknown> = { fen, moves: [...moves], lastMove: san, turn: ply % 2 ? 'white' : 'black', comment: COMMENTS[ply] ?? null };
      if (mate) data['result'] = '1-0';
      await api.score(eventId, { op: 'patch', type: 'move', version: base + ply + 1, data }, signal);
      const moveNo = `${Math.floor(ply / 2) + 1}.${ply % 2 ? '..' : ''} ${san}`;
      if (mate) await api.notice(eventId, { type: 'mate', title: `Checkmate! ${moveNo}`, body: 'Morphy wins, 1-0.', level: 'important' }, signal);
      else if (COMMENTS[ply]) await api.notice(eventId, { type: 'highlight', title: moveNo, body: COMMENTS[ply] }, signal);
      else if (san.endsWith('+')) await api.notice(eventId, { type: 'check', title: `Check: ${moveNo}` }, signal);
    }
    await sleep(moveMs * 5, signal);
  }
}
